/**
 * A lower DB made by real Nix 2.8, watched, then replaced (a file renamed over it, as an image update or a careless
 * copy does) by something that is not a Nix DB: the drift event says what the new file is, and the agent logs it at
 * error level in those words. Put back, a Nix DB is a plain replacement again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { readLowerDbIdentity } from '../../agent/baseline/db-identity.ts';
import { describeDrift, eventLevel } from '../../agent/decide/index.ts';
import { LowerDbWatcher } from '../../agent/watch/db-watcher.ts';
import type { DriftEvent, LowerDbModifiedEvent, LowerDbReplacedEvent } from '../../agent/watch/drift-events.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';
import { withSafetyNet } from '../support/wait-for.ts';

describe('watch: the lower DB replaced by something that is not a Nix DB', function () {
  let dir: string;
  let db: string;
  let watcher: LowerDbWatcher;

  before(function () {
    requireCommand(this, 'nix-store');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-db-replaced-'));
    fs.writeFileSync(path.join(dir, 'f'), 'f\n');
    runNix('nix-store', ['--store', path.join(dir, 'root'), '--add', path.join(dir, 'f')]);
    db = path.join(dir, 'root/nix/var/nix/db/db.sqlite');
    fs.copyFileSync(db, path.join(dir, 'nix-db.sqlite'));
  });
  // A watcher per case, knowing the DB as the case finds it: this test is about what the events say. (One watcher
  // given renames over the DB in quick succession misses every other one, as chokidar does not see a rename-over
  // that comes within about 100 ms of the one before.)
  beforeEach(async () => {
    watcher = new LowerDbWatcher({ db, debounceMs: 20, initial: readLowerDbIdentity(db), persistent: false });
    await watcher.start();
  });
  afterEach(async () => watcher?.close());
  after(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Renames a file made by `write` over the DB, and resolves with the drift event the watcher emits for it: a
   * replacement, or a modification when the filesystem gave the new file a freed inode number the DB once had.
   */
  const replaceWith = (write: (file: string) => void): Promise<LowerDbReplacedEvent | LowerDbModifiedEvent> => {
    const event = new Promise<LowerDbReplacedEvent | LowerDbModifiedEvent>((resolve) => {
      const onDrift = (e: DriftEvent): void => {
        if (e.type !== 'lower-db-replaced' && e.type !== 'lower-db-modified') return;
        watcher.off('drift', onDrift);
        resolve(e);
      };
      watcher.on('drift', onDrift);
    });
    const next = path.join(path.dirname(db), 'incoming');
    write(next);
    fs.renameSync(next, db);
    return withSafetyNet(event, 'the lower-db-replaced event');
  };

  const cases: readonly { what: string; write: (file: string) => void; content: string; words: RegExp }[] = [
    {
      what: 'a file that is not SQLite',
      write: (file) => fs.writeFileSync(file, '<html>404</html>\n'),
      content: 'not-sqlite',
      words: /not an SQLite database/,
    },
    { what: 'an empty file', write: (file) => fs.writeFileSync(file, ''), content: 'empty', words: /empty \(0 bytes\)/ },
    {
      what: 'an SQLite DB of another schema',
      write: (file) => new DatabaseSync(file).exec('create table Photos (id integer primary key)'),
      content: 'wrong-schema',
      words: /an SQLite database without Nix's schema/,
    },
  ];
  for (const { what, write, content, words } of cases) {
    it(`${what}: the event says ${content}, and is logged at error level saying so`, async () => {
      const event = await replaceWith(write);
      assert.deepEqual([event.after?.file, event.after?.content, event.after?.validPaths], [db, content, null]);
      assert.equal(eventLevel(event), 'error');
      assert.match(describeDrift(event), words);
      assert.match(describeDrift(event), new RegExp(`${db.replaceAll('/', '\\/')} is now .*, so Nix cannot open the lower store`));
    });
  }

  it('a Nix DB put back: a plain replacement, a warning', async () => {
    const event = await replaceWith((file) => fs.copyFileSync(path.join(dir, 'nix-db.sqlite'), file));
    assert.deepEqual([event.after?.content, event.after?.validPaths?.count], ['nix-db', 1]);
    assert.equal(eventLevel(event), 'warn');
    assert.match(describeDrift(event), /^drift: the lower DB (was replaced|changed under the live overlay)$/);
  });
});
