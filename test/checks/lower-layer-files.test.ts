import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decideLowerLayerFiles, probeLowerLayer, probePath, readOnlyHint, type LowerLayerFacts } from '../../agent/checks/lower-layer-files.ts';
import { FS_VIEW, mountFactsFromTable } from '../../agent/checks/mount-facts.ts';
import { parseMountinfo } from '../../agent/mount/mountinfo.ts';
import { ids, layoutOf } from './literal-facts.ts';
import { DatabaseSync } from 'node:sqlite';
import { createNixDb } from '../../agent/demo/nix-db-writer.ts';

const LOWER = layoutOf('local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper').lower;
const FS_RO = { mountPoint: '/x/lower', device: '8:1', fsType: 'ext4', readOnly: true, line: '30 1 8:1 / /x/lower ro - ext4 /dev/sdb ro' };
const ok: LowerLayerFacts = {
  storeDir: '/x/lower/nix/store',
  storeDirState: { kind: 'ok' },
  db: '/x/lower/nix/var/nix/db/db.sqlite',
  dbState: { kind: 'ok' },
  fs: FS_RO,
};

describe('check layer.lower', () => {
  describe('deciding (pure)', () => {
    it('layer.lower-read-only (info) for a readable store on a read-only mount', () => {
      const found = decideLowerLayerFiles(ok, LOWER);
      assert.deepEqual(ids(found), ['layer.lower-read-only']);
      assert.equal(found[0]?.severity, 'info');
    });

    it('layer.lower-writable (warning) on a writable mount, with the mount to make read-only', () => {
      const [f] = decideLowerLayerFiles({ ...ok, fs: { ...FS_RO, readOnly: false } }, LOWER);
      assert.equal(f?.id, 'layer.lower-writable');
      assert.equal(f?.severity, 'warning');
      assert.match(f?.hint ?? '', /mount --bind '\/x\/lower\/nix\/store' '\/x\/lower\/nix\/store' && mount -o remount,bind,ro '\/x\/lower\/nix\/store'/);
      assert.doesNotMatch(f?.hint ?? '', /'\/x\/lower'/, 'never the whole filesystem the store sits on');
    });

    it('layer.lower-writable on the root filesystem: the hint never makes / read-only', () => {
      const [f] = decideLowerLayerFiles({ ...ok, fs: { ...FS_RO, mountPoint: '/', readOnly: false } }, LOWER);
      assert.doesNotMatch(f?.hint ?? '', /'\/'|remount,bind,ro \/ /);
      assert.match(f?.hint ?? '', /mount -o remount,bind,ro '\/x\/lower\/nix\/store'/);
    });

    it('readOnlyHint: a store dir that is its own mount point is remounted alone; odd paths are quoted for sh', () => {
      assert.match(readOnlyHint('/s/nix/store', '/s/nix/store'), /: mount -o remount,bind,ro '\/s\/nix\/store' \(/);
      assert.match(readOnlyHint("/it's here", '/'), /mount --bind '\/it'\\''s here' '\/it'\\''s here'/);
    });

    it('layer.lower-store-missing (error), which stands for the DB too', () => {
      const found = decideLowerLayerFiles({ ...ok, storeDirState: { kind: 'missing', errno: 'ENOENT' }, dbState: { kind: 'missing', errno: 'ENOENT' } }, LOWER);
      assert.deepEqual(ids(found), ['layer.lower-store-missing']);
      assert.equal(found[0]?.severity, 'error');
      assert.equal(found[0]?.evidence['errno'], 'ENOENT');
    });

    it('layer.lower-db-missing (error) for a store dir without a readable DB', () => {
      const found = decideLowerLayerFiles({ ...ok, dbState: { kind: 'unreadable', errno: 'EACCES' } }, LOWER);
      assert.deepEqual(ids(found), ['layer.lower-db-missing', 'layer.lower-read-only']);
      assert.equal(found[0]?.severity, 'error');
      assert.equal(found[0]?.evidence['problem'], 'unreadable');
    });

    it('layer.lower-db-invalid (error) for a DB file that is not a Nix DB, saying what it is', () => {
      const found = decideLowerLayerFiles({ ...ok, dbContent: 'not-sqlite' }, LOWER);
      assert.deepEqual(ids(found), ['layer.lower-db-invalid', 'layer.lower-read-only']);
      assert.equal(found[0]?.severity, 'error');
      assert.equal(found[0]?.evidence['content'], 'not-sqlite');
      assert.match(found[0]?.message ?? '', /is not a Nix DB: it is not an SQLite database/);
      assert.deepEqual(ids(decideLowerLayerFiles({ ...ok, dbContent: 'nix-db' }, LOWER)), ['layer.lower-read-only']);
    });

    it('no DB finding for a lower store whose metadata comes from a daemon', () => {
      assert.deepEqual(ids(decideLowerLayerFiles({ ...ok, db: undefined, dbState: undefined }, LOWER)), ['layer.lower-read-only']);
    });
  });

  describe('probing (stat and access; the DB opened immutable, read-only)', () => {
    let dir = '';
    before(() => {
      dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-lower-')));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('tells a missing dir, a file where a dir should be, and a readable dir apart', () => {
      fs.writeFileSync(path.join(dir, 'file'), '');
      assert.deepEqual(probePath(path.join(dir, 'nope'), 'directory'), { kind: 'missing', errno: 'ENOENT' });
      assert.deepEqual(probePath(path.join(dir, 'file'), 'directory'), { kind: 'not-directory', errno: undefined });
      assert.deepEqual(probePath(dir, 'directory'), { kind: 'ok' });
      assert.deepEqual(probePath(dir, 'file'), { kind: 'not-file', errno: undefined });
    });

    it('probes a lower store laid out on disk, with the mount holding it from the table', () => {
      fs.mkdirSync(path.join(dir, 'lower/nix/store'), { recursive: true });
      const url = `local-overlay://?root=${dir}/m&lower-store=${dir}/lower&upper-layer=${dir}/u`;
      const layout = layoutOf(url);
      const table = parseMountinfo(`1 0 254:0 / / rw - ext4 /dev/vda rw\n2 1 0:50 / ${dir}/lower ro - tmpfs t ro\n`);
      const facts = probeLowerLayer(mountFactsFromTable({ mountinfoFile: 'x', parsed: table, layout, view: FS_VIEW }), layout.lower);
      assert.deepEqual(facts.storeDirState, { kind: 'ok' });
      assert.equal(facts.dbState?.kind, 'missing');
      assert.equal(facts.fs?.mountPoint, `${dir}/lower`);
      assert.deepEqual(ids(decideLowerLayerFiles(facts, layout.lower)), ['layer.lower-db-missing', 'layer.lower-read-only']);
    });

    it('reads what the DB file holds, creating nothing beside it: empty, not SQLite, not Nix, a Nix DB', () => {
      const url = `local-overlay://?root=${dir}/m&lower-store=${dir}/lower2&upper-layer=${dir}/u`;
      const layout = layoutOf(url);
      fs.mkdirSync(path.join(dir, 'lower2/nix/store'), { recursive: true });
      const dbDir = path.join(dir, 'lower2/nix/var/nix/db');
      createNixDb(path.dirname(dbDir)).finish();
      const table = parseMountinfo(`1 0 254:0 / / rw - ext4 /dev/vda rw\n`);
      const content = (): unknown => probeLowerLayer(mountFactsFromTable({ mountinfoFile: 'x', parsed: table, layout, view: FS_VIEW }), layout.lower).dbContent;
      const names = fs.readdirSync(dbDir).sort();
      assert.equal(content(), 'nix-db');
      assert.deepEqual(fs.readdirSync(dbDir).sort(), names);
      fs.copyFileSync(path.join(dbDir, 'db.sqlite'), path.join(dir, 'nix-db.sqlite'));
      fs.writeFileSync(path.join(dbDir, 'db.sqlite'), '');
      assert.equal(content(), 'empty');
      fs.writeFileSync(path.join(dbDir, 'db.sqlite'), 'PK\x03\x04 a zip file, not a database');
      assert.equal(content(), 'not-sqlite');
      fs.rmSync(path.join(dbDir, 'db.sqlite'));
      new DatabaseSync(path.join(dbDir, 'db.sqlite')).exec('create table Other (x)');
      assert.equal(content(), 'wrong-schema');
    });
  });
});
