import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { readLowerDbIdentity, type LowerDbIdentity } from '../../agent/baseline/db-identity.ts';
import { LowerDbWatcher } from '../../agent/watch/db-watcher.ts';
import type { DriftEvent, DriftEventOf, DriftEventType } from '../../agent/watch/drift-events.ts';
import type { WatchError } from '../../agent/watch/watch-errors.ts';
import type { WatcherHealthEvent } from '../../agent/watch/watcher-health.ts';

/** A bound on waiting, never a measure: events come within the 20 ms debounce; a loaded machine may take seconds. */
const WAIT_MS = 30_000;
const NOW = new Date('2025-03-01T12:00:00.000Z');

/** Nix's ValidPaths table, in WAL mode as Nix keeps it. */
const SCHEMA = `pragma journal_mode = wal;
create table if not exists ValidPaths (id integer primary key autoincrement not null, path text unique not null, hash text not null,
  registrationTime integer not null, deriver text, narSize integer, ultimate integer, sigs text, ca text);`;

/** Registers `count` more paths in the DB at `file` (created if missing), through SQLite, then closes it (the WAL is checkpointed and removed). */
function registerPaths(file: string, count: number): void {
  const db = new DatabaseSync(file);
  try {
    db.exec(SCHEMA);
    addRows(db, count);
  } finally {
    db.close();
  }
}

let registered = 0;
function addRows(db: DatabaseSync, count: number): void {
  const insert = db.prepare('insert into ValidPaths (path, hash, registrationTime, narSize) values (?, ?, ?, ?)');
  for (let i = 0; i < count; i++) insert.run(`/nix/store/${String(++registered).padStart(32, '0')}-p`, `sha256:${'0'.repeat(64)}`, 1700000000, 120);
}

/** The next drift event of `type` matching `match`, after the call (subscribe first, then act). */
function nextDrift<T extends DriftEventType>(watcher: LowerDbWatcher, type: T, match: (e: DriftEventOf<T>) => boolean = () => true): Promise<DriftEventOf<T>> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const onDrift = (event: DriftEvent): void => {
      if (event.type !== type || !match(event as DriftEventOf<T>)) return void seen.push(event.type);
      stop();
      resolve(event as DriftEventOf<T>);
    };
    const timer = setTimeout(() => {
      stop();
      reject(
        new assert.AssertionError({
          message: `no matching ${type} within ${WAIT_MS} ms; saw ${JSON.stringify(seen)}; last error: ${watcher.lastError?.message ?? 'none'}`,
        }),
      );
    }, WAIT_MS);
    const stop = (): void => {
      clearTimeout(timer);
      watcher.off('drift', onDrift);
    };
    watcher.on('drift', onDrift);
  });
}

/** The next watcher health event, after the call. */
async function nextHealth(watcher: LowerDbWatcher): Promise<WatcherHealthEvent> {
  const [event] = (await once(watcher, 'health', { signal: AbortSignal.timeout(WAIT_MS) })) as [WatcherHealthEvent];
  return event;
}

/** The next watch error, after the call. */
async function nextError(watcher: LowerDbWatcher): Promise<WatchError> {
  const [error] = (await once(watcher, 'error', { signal: AbortSignal.timeout(WAIT_MS) })) as [WatchError];
  return error;
}

const inoOf = (file: string): string => String(fs.statSync(file, { bigint: true }).ino);

describe('watch/db-watcher on real files', () => {
  let root: string;
  let dir: string;
  let db: string;
  let n = 0;
  const watchers: LowerDbWatcher[] = [];
  /** A started watcher of `db` (or `file`), stamped with NOW, with what it emitted while starting; closed after each test. */
  async function started(
    initial: LowerDbIdentity | null,
    options: { debounceMs?: number; file?: string } = {},
  ): Promise<{ watcher: LowerDbWatcher; atStart: DriftEvent[]; errorsAtStart: WatchError[]; healthAtStart: WatcherHealthEvent[] }> {
    const watcher = new LowerDbWatcher({ db: options.file ?? db, debounceMs: options.debounceMs ?? 20, dirCheckMs: 20, initial, now: () => NOW });
    watchers.push(watcher);
    const atStart: DriftEvent[] = [];
    const errorsAtStart: WatchError[] = [];
    const healthAtStart: WatcherHealthEvent[] = [];
    const onDrift = (e: DriftEvent): number => atStart.push(e);
    const onError = (e: WatchError): number => errorsAtStart.push(e);
    const onHealth = (e: WatcherHealthEvent): number => healthAtStart.push(e);
    watcher.on('drift', onDrift).on('error', onError).on('health', onHealth);
    await watcher.start();
    watcher.off('drift', onDrift).off('error', onError).off('health', onHealth);
    return { watcher, atStart, errorsAtStart, healthAtStart };
  }

  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-dbwatch-'))));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    dir = path.join(root, String(++n), 'nix/var/nix/db');
    fs.mkdirSync(dir, { recursive: true });
    db = path.join(dir, 'db.sqlite');
  });
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.close()));
  });

  describe('the first check, against the identity the baseline knew', () => {
    const rows: readonly { name: string; setUp: () => LowerDbIdentity | null; expected: (before: LowerDbIdentity | null) => unknown[] }[] = [
      { name: 'the same DB → nothing', setUp: () => (registerPaths(db, 1), readLowerDbIdentity(db)), expected: () => [] },
      { name: 'no DB then, none now → nothing', setUp: () => null, expected: () => [] },
      {
        name: 'no DB then, one now → lower-db-replaced (appeared)',
        setUp: () => (registerPaths(db, 1), null),
        expected: () => [
          { type: 'lower-db-replaced', source: 'watch', at: NOW.toISOString(), change: 'appeared', before: null, after: readLowerDbIdentity(db) },
        ],
      },
      {
        name: 'another inode → lower-db-replaced (replaced)',
        setUp: () => (registerPaths(db, 1), { ...readLowerDbIdentity(db)!, ino: '1' }),
        expected: (before) => [
          { type: 'lower-db-replaced', source: 'watch', at: NOW.toISOString(), change: 'replaced', before, after: readLowerDbIdentity(db) },
        ],
      },
      {
        name: 'another device (the same inode number on another disk is another file) → lower-db-replaced (replaced)',
        setUp: () => (registerPaths(db, 1), { ...readLowerDbIdentity(db)!, dev: '1' }),
        expected: (before) => [
          { type: 'lower-db-replaced', source: 'watch', at: NOW.toISOString(), change: 'replaced', before, after: readLowerDbIdentity(db) },
        ],
      },
      {
        name: 'fewer paths registered then → lower-db-modified',
        setUp: () => (registerPaths(db, 2), { ...readLowerDbIdentity(db)!, validPaths: { count: 1, maxId: 1 } }),
        expected: (before) => [{ type: 'lower-db-modified', source: 'watch', at: NOW.toISOString(), before, after: readLowerDbIdentity(db) }],
      },
      {
        name: 'a DB then, none now → lower-db-replaced (vanished)',
        setUp: () => (registerPaths(db, 1), ((id) => (fs.rmSync(db), id))(readLowerDbIdentity(db))),
        expected: (before) => [{ type: 'lower-db-replaced', source: 'watch', at: NOW.toISOString(), change: 'vanished', before, after: null }],
      },
    ];
    for (const row of rows) {
      it(row.name, async () => {
        const initial = row.setUp();
        const { watcher, atStart, errorsAtStart } = await started(initial);
        assert.deepEqual(atStart, row.expected(initial));
        assert.deepEqual(errorsAtStart, []);
        assert.deepEqual(watcher.identity, readLowerDbIdentity(db));
      });
    }
  });

  describe('changes while watching', () => {
    it('paths registered through SQLite → lower-db-modified with the new counters', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db));
      const event = nextDrift(watcher, 'lower-db-modified', (e) => e.after.validPaths?.count === 3);
      registerPaths(db, 2);
      const { before, after } = await event;
      assert.deepEqual(before.validPaths, { count: 1, maxId: 1 });
      assert.deepEqual([after.ino, after.validPaths], [inoOf(db), { count: 3, maxId: 3 }]);
    });

    it('a writer holding the DB open: its WAL → lower-db-modified; its close (checkpoint) → lower-db-modified again', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db));
      const writer = new DatabaseSync(db);
      try {
        const walGrew = nextDrift(watcher, 'lower-db-modified', (e) => e.after.walSize > 0);
        addRows(writer, 1);
        const grown = await walGrew;
        assert.equal(grown.after.walMtimeNs !== null, true);
        assert.equal(grown.after.ino, grown.before.ino, 'the same file');
      } finally {
        const checkpointed = nextDrift(watcher, 'lower-db-modified', (e) => e.after.walSize === 0 && e.after.validPaths?.count === 2);
        writer.close();
        await checkpointed;
      }
    });

    it('a copy renamed over the DB → lower-db-replaced (replaced) naming the new inode', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db));
      registerPaths(`${db}.new`, 5);
      const event = nextDrift(watcher, 'lower-db-replaced', (e) => e.change === 'replaced');
      fs.renameSync(`${db}.new`, db);
      const { before, after } = await event;
      assert.notEqual(before?.ino, after?.ino);
      assert.equal(after?.ino, inoOf(db));
      assert.deepEqual(after?.validPaths, { count: 5, maxId: 5 });
    });

    it('the DB removed, then recreated → lower-db-replaced vanished, then appeared', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db));
      const vanished = nextDrift(watcher, 'lower-db-replaced', (e) => e.change === 'vanished');
      fs.rmSync(db);
      assert.equal((await vanished).after, null);
      assert.equal(watcher.identity, null);
      const appeared = nextDrift(watcher, 'lower-db-replaced', (e) => e.change === 'appeared');
      registerPaths(db, 4);
      const { before, after } = await appeared;
      assert.deepEqual([before, after?.ino, after?.validPaths], [null, inoOf(db), { count: 4, maxId: 4 }]);
    });

    it('the DB’s directory removed → watcher-down and lower-db-replaced (vanished); made again → watcher-up, appeared, and watched again', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db));
      const down = nextHealth(watcher);
      const vanished = nextDrift(watcher, 'lower-db-replaced', (e) => e.change === 'vanished');
      fs.rmSync(dir, { recursive: true });
      assert.deepEqual(await down, { type: 'watcher-down', watcher: 'lower-db', target: dir, at: NOW.toISOString(), reason: 'vanished', detail: 'ENOENT' });
      assert.equal((await vanished).after, null);
      assert.deepEqual([watcher.health.state, watcher.health.state === 'down' && watcher.health.reason], ['down', 'vanished']);

      const up = nextHealth(watcher);
      const appeared = nextDrift(watcher, 'lower-db-replaced', (e) => e.change === 'appeared');
      // Made elsewhere, then moved into place whole: the gap ends with a DB of 2 paths.
      const staging = `${dir}.new`;
      fs.mkdirSync(staging);
      registerPaths(path.join(staging, 'db.sqlite'), 2);
      fs.renameSync(staging, dir);
      assert.deepEqual(await up, {
        type: 'watcher-up',
        watcher: 'lower-db',
        target: dir,
        at: NOW.toISOString(),
        downSince: NOW.toISOString(),
        reason: 'vanished',
      });
      assert.deepEqual((await appeared).after?.validPaths, { count: 2, maxId: 2 });
      assert.equal(watcher.health.state, 'up');

      const modified = nextDrift(watcher, 'lower-db-modified', (e) => e.after.validPaths?.count === 5);
      registerPaths(db, 3);
      await modified;
    });

    it('the DB’s directory moved away and back → watcher-down, then watcher-up, and changes after it are seen', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db));
      const down = nextHealth(watcher);
      fs.renameSync(dir, `${dir}.away`);
      assert.equal((await down).type, 'watcher-down');
      const up = nextHealth(watcher);
      fs.renameSync(`${dir}.away`, dir);
      assert.equal((await up).type, 'watcher-up');
      const modified = nextDrift(watcher, 'lower-db-modified', (e) => e.after.validPaths?.count === 2);
      registerPaths(db, 1);
      await modified;
    });

    it('a DB path that cannot be stat-ed (a symlink loop) → WATCH_DB_FAILED, the last identity kept; a DB again → the change from it', async () => {
      registerPaths(db, 1);
      const known = readLowerDbIdentity(db);
      const { watcher } = await started(known);
      const failed = nextError(watcher);
      // Moved aside, not deleted: a new file could otherwise reuse its inode number and pass for it.
      fs.renameSync(db, `${db}.old`);
      fs.symlinkSync('db.sqlite', db);
      const error = await failed;
      assert.deepEqual([error.code, error.evidence['file'], error.evidence['errno']], ['WATCH_DB_FAILED', db, 'ELOOP']);
      assert.deepEqual(watcher.identity, known);
      const replaced = nextDrift(watcher, 'lower-db-replaced', (e) => e.change === 'replaced');
      fs.rmSync(db);
      registerPaths(db, 2);
      const { before, after } = await replaced;
      assert.deepEqual([before, after?.ino], [known, inoOf(db)]);
    });

    it('flush() checks at once what a long debounce still holds', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db), { debounceMs: 10 * WAIT_MS });
      const event = nextDrift(watcher, 'lower-db-modified', (e) => e.after.validPaths?.count === 2);
      registerPaths(db, 1);
      // The file events arrive at chokidar's pace: flush whenever the loop turns, until the check has run.
      const flushing = setInterval(() => watcher.flush(), 1);
      try {
        await event;
      } finally {
        clearInterval(flushing);
      }
    });
  });

  describe('where it cannot watch, and closing', () => {
    for (const [name, setUp, reason, errno] of [
      ['the DB’s directory does not exist', (d: string) => path.join(d, 'missing', 'db.sqlite'), 'vanished', 'ENOENT'],
      [
        'the DB’s directory is a file',
        (d: string) => (fs.writeFileSync(path.join(d, 'file'), ''), path.join(d, 'file', 'db.sqlite')),
        'not-a-directory',
        'ENOTDIR',
      ],
    ] as const) {
      it(`${name} → watcher-down at start; a directory with a DB there later → watcher-up and lower-db-replaced (appeared)`, async () => {
        const file = setUp(dir);
        const { watcher, atStart, errorsAtStart, healthAtStart } = await started(null, { file });
        assert.deepEqual(atStart, []);
        assert.deepEqual(healthAtStart, [
          { type: 'watcher-down', watcher: 'lower-db', target: path.dirname(file), at: NOW.toISOString(), reason, detail: errno },
        ]);
        // Reading the DB through a file fails too (WATCH_DB_FAILED, same errno); nothing else is reported.
        assert.deepEqual(
          errorsAtStart.map((e) => [e.code, e.evidence['errno']]),
          errno === 'ENOTDIR' ? [['WATCH_DB_FAILED', 'ENOTDIR']] : [],
        );
        const up = nextHealth(watcher);
        const appeared = nextDrift(watcher, 'lower-db-replaced', (e) => e.change === 'appeared');
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
        const staging = `${path.dirname(file)}.new`;
        fs.mkdirSync(staging);
        registerPaths(path.join(staging, 'db.sqlite'), 1);
        fs.renameSync(staging, path.dirname(file));
        assert.equal((await up).type, 'watcher-up');
        assert.equal((await appeared).after?.ino, inoOf(file));
      });
    }

    it('close() is idempotent; a closed watcher reports nothing, even when asked to check', async () => {
      registerPaths(db, 1);
      const { watcher } = await started(readLowerDbIdentity(db));
      await Promise.all([watcher.close(), watcher.close()]);
      const after: DriftEvent[] = [];
      watcher.on('drift', (e) => after.push(e));
      fs.rmSync(db);
      watcher.check();
      watcher.flush();
      await watcher.start();
      assert.deepEqual(after, []);
      assert.notEqual(watcher.identity, null, 'the identity of the last check stays');
    });
  });
});
