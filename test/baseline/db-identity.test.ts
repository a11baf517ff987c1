import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { compareDbIdentity, isLowerDbIdentity, readLowerDbIdentity, type LowerDbIdentity } from '../../agent/baseline/index.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';

const base: LowerDbIdentity = { file: '/db', dev: '1', ino: '10', size: 100, mtimeNs: '5', walSize: 0, walMtimeNs: null, validPaths: { count: 3, maxId: 3 } };

describe('baseline/db-identity', () => {
  describe('compareDbIdentity', () => {
    it('tells replaced (new inode) from modified (same inode, other size, mtime, WAL or counters)', () => {
      assert.equal(compareDbIdentity(base, { ...base }, 'live'), 'unchanged');
      assert.equal(compareDbIdentity(base, { ...base, ino: '11' }, 'restart'), 'replaced');
      assert.equal(compareDbIdentity(base, { ...base, size: 200 }, 'live'), 'modified');
      assert.equal(compareDbIdentity(base, { ...base, mtimeNs: '6' }, 'live'), 'modified');
      assert.equal(compareDbIdentity(base, { ...base, walSize: 4096, walMtimeNs: '9' }, 'live'), 'modified');
      assert.equal(compareDbIdentity(base, { ...base, validPaths: { count: 3, maxId: 4 } }, 'live'), 'modified');
    });

    it('compares the device only while running (a reboot may renumber it)', () => {
      assert.equal(compareDbIdentity(base, { ...base, dev: '2' }, 'live'), 'replaced');
      assert.equal(compareDbIdentity(base, { ...base, dev: '2' }, 'restart'), 'unchanged');
    });

    it('ignores counters one side could not read, and reports appearing and vanishing', () => {
      assert.equal(compareDbIdentity(base, { ...base, validPaths: null }, 'live'), 'unchanged');
      assert.equal(compareDbIdentity(null, base, 'live'), 'appeared');
      assert.equal(compareDbIdentity(base, null, 'live'), 'vanished');
      assert.equal(compareDbIdentity(null, null, 'live'), 'unchanged');
    });
  });

  describe('readLowerDbIdentity on a Nix 2.8 store', () => {
    let dir = '';
    let db = '';
    before(function () {
      requireCommand(this, 'nix-store');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-dbid-'));
      for (const n of ['a', 'b']) fs.writeFileSync(path.join(dir, n), `${n}\n`);
      runNix('nix-store', ['--store', path.join(dir, 'root'), '--add', path.join(dir, 'a')]);
      db = path.join(dir, 'root/nix/var/nix/db/db.sqlite');
    });
    after(() => dir !== '' && fs.rmSync(dir, { recursive: true, force: true }));

    it('counts ValidPaths as Nix does, without creating -wal or -shm files in the lower state dir', () => {
      const before = fs.readdirSync(path.dirname(db)).sort();
      const id = readLowerDbIdentity(db);
      assert.ok(id !== null);
      assert.deepEqual(id.validPaths, { count: 1, maxId: 1 });
      assert.equal(String(fs.statSync(db, { bigint: true }).ino), id.ino);
      assert.deepEqual(fs.readdirSync(path.dirname(db)).sort(), before);
      assert.equal(readLowerDbIdentity(path.join(dir, 'nope.sqlite')), null);
    });

    it('sees nix-store --add as a modification and a copy renamed over the DB as a replacement', () => {
      const first = readLowerDbIdentity(db);
      runNix('nix-store', ['--store', path.join(dir, 'root'), '--add', path.join(dir, 'b')]);
      const second = readLowerDbIdentity(db);
      assert.equal(second?.validPaths?.count, 2);
      assert.equal(compareDbIdentity(first, second, 'live'), 'modified');
      fs.copyFileSync(db, `${db}.new`);
      fs.renameSync(`${db}.new`, db);
      const third = readLowerDbIdentity(db);
      assert.equal(compareDbIdentity(second, third, 'restart'), 'replaced');
      assert.deepEqual(third?.validPaths, second?.validPaths);
    });

    it('says what replaced the DB: a Nix DB, or an empty file, a file that is not SQLite, an SQLite DB of another schema', () => {
      assert.equal(readLowerDbIdentity(db)?.content, 'nix-db');
      const nixDb = `${db}.nix`;
      fs.copyFileSync(db, nixDb);
      const replaceWith = (write: (file: string) => void): LowerDbIdentity | null => {
        const next = `${db}.next`;
        write(next);
        fs.renameSync(next, db);
        return readLowerDbIdentity(db);
      };
      const empty = replaceWith((file) => fs.writeFileSync(file, ''));
      assert.deepEqual([empty?.content, empty?.validPaths, empty?.size], ['empty', null, 0]);
      assert.equal(replaceWith((file) => fs.writeFileSync(file, '<html>not found</html>\n'))?.content, 'not-sqlite');
      const other = replaceWith((file) => new DatabaseSync(file).exec('create table Notes (text)'));
      assert.equal(other?.content, 'wrong-schema');
      const restored = replaceWith((file) => fs.copyFileSync(nixDb, file));
      assert.equal(restored?.content, 'nix-db');
      assert.deepEqual(fs.readdirSync(path.dirname(db)).sort(), ['big-lock', 'db.sqlite', 'db.sqlite.nix', 'reserved', 'schema']);
    });
  });

  describe('isLowerDbIdentity', () => {
    it('accepts an identity with or without its content verdict (baselines saved before it), and no unknown verdict', () => {
      assert.equal(isLowerDbIdentity(base), true);
      assert.equal(isLowerDbIdentity({ ...base, content: 'not-sqlite' }), true);
      assert.equal(isLowerDbIdentity({ ...base, content: 'a teapot' }), false);
    });
  });
});
