import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BaselineError,
  captureLowerBaseline,
  diffLowerBaselines,
  dirStampsEqual,
  dirUnchangedSince,
  readDirStamp,
  refreshLowerBaseline,
  scanStoreDir,
} from '../../agent/baseline/index.ts';
import { requireRoot } from '../support/requirements.ts';

const h = (c: string): string => c.repeat(32);

describe('baseline/scan-store-dir', () => {
  let dir = '';
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-scan-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists store objects of every type, skipping non-store names and Nix lock files', async () => {
    fs.mkdirSync(path.join(dir, `${h('a')}-dir-1.0`));
    fs.writeFileSync(path.join(dir, `${h('b')}-file.drv`), 'Derive(...)');
    fs.symlinkSync('/nowhere', path.join(dir, `${h('c')}-link`));
    // A real store object named like a lock file: more than one byte, so kept.
    fs.writeFileSync(path.join(dir, `${h('d')}-Cargo.lock`), '[[package]]\n');
    // Nix lock files: empty while held, "d" once released.
    fs.writeFileSync(path.join(dir, `${h('a')}-dir-1.0.lock`), '');
    fs.writeFileSync(path.join(dir, `${h('f')}-out.lock`), 'd');
    fs.mkdirSync(path.join(dir, '.links'));
    fs.writeFileSync(path.join(dir, 'not-a-store-path'), '');
    const scan = await scanStoreDir(dir);
    assert.deepEqual([...scan.entries.names()].sort(), [`${h('a')}-dir-1.0`, `${h('b')}-file.drv`, `${h('c')}-link`, `${h('d')}-Cargo.lock`]);
    assert.equal(scan.skipped, 4);
    assert.deepEqual(scan.whiteouts, []);
    assert.ok(dirStampsEqual(scan.stamp, readDirStamp(dir), 'live'));
  });

  it('reports whiteouts (char devices 0/0) apart from objects', async function () {
    requireRoot(this);
    fs.mkdirSync(path.join(dir, `${h('a')}-kept`));
    const mknod = spawnSync('mknod', [path.join(dir, `${h('w')}-masked`), 'c', '0', '0']);
    assert.equal(mknod.status, 0, String(mknod.stderr));
    const scan = await scanStoreDir(dir);
    assert.deepEqual([...scan.entries.names()], [`${h('a')}-kept`]);
    assert.deepEqual(scan.whiteouts, [`${h('w')}-masked`]);
  });

  it('changes the directory stamp when an entry is added or removed', async () => {
    const before = readDirStamp(dir);
    fs.mkdirSync(path.join(dir, `${h('a')}-new`));
    const added = readDirStamp(dir);
    assert.ok(!dirStampsEqual(before, added, 'live'));
    fs.rmdirSync(path.join(dir, `${h('a')}-new`));
    assert.ok(!dirStampsEqual(added, readDirStamp(dir), 'restart'));
  });

  it('a stamp vouches for "no entry changed" only once the directory was quiet for a second before it was read', () => {
    fs.mkdirSync(path.join(dir, `${h('a')}-p`));
    const fresh = readDirStamp(dir);
    assert.equal(dirUnchangedSince(fresh, readDirStamp(dir), 'live'), false, 'changed just now: same-tick changes could hide');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(dir, past, past);
    const settled = readDirStamp(dir);
    assert.equal(dirUnchangedSince(settled, readDirStamp(dir), 'live'), true);
    assert.equal(dirUnchangedSince(settled, { ...readDirStamp(dir), dev: '999999' }, 'restart'), true, 'a reboot may renumber the device');
    assert.equal(dirUnchangedSince(settled, { ...readDirStamp(dir), dev: '999999' }, 'live'), false);
    fs.rmdirSync(path.join(dir, `${h('a')}-p`));
    assert.equal(dirUnchangedSince(settled, readDirStamp(dir), 'live'), false);
  });

  it('refreshLowerBaseline skips the listing when the stamp proves nothing changed, and lists otherwise', async () => {
    for (const c of 'ab') fs.mkdirSync(path.join(dir, `${h(c)}-p`));
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(dir, past, past);
    const first = await captureLowerBaseline({ realStoreDir: dir, db: undefined });
    const again = await refreshLowerBaseline({ realStoreDir: dir, db: undefined }, first);
    assert.equal(again.listed, false);
    assert.equal(again.baseline.entries, first.entries);
    fs.mkdirSync(path.join(dir, `${h('c')}-p`));
    const changed = await refreshLowerBaseline({ realStoreDir: dir, db: undefined }, first);
    assert.equal(changed.listed, true);
    assert.deepEqual(diffLowerBaselines(first, changed.baseline).added, [`${h('c')}-p`]);
    assert.equal((await refreshLowerBaseline({ realStoreDir: dir, db: undefined }, undefined)).listed, true);
  });

  it('fails with BASELINE_SCAN_FAILED naming the directory', async () => {
    await assert.rejects(scanStoreDir(path.join(dir, 'missing')), (error: unknown) => {
      assert.ok(error instanceof BaselineError);
      assert.equal(error.code, 'BASELINE_SCAN_FAILED');
      assert.equal(error.evidence['errno'], 'ENOENT');
      return true;
    });
  });

  it('stops with the abort reason', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(scanStoreDir(dir, { signal: controller.signal }), /stop/);
  });

  it('captures and diffs baselines: what came and went', async () => {
    for (const c of 'abc') fs.mkdirSync(path.join(dir, `${h(c)}-p`));
    const first = await captureLowerBaseline({ realStoreDir: dir, db: undefined });
    fs.rmdirSync(path.join(dir, `${h('a')}-p`));
    fs.mkdirSync(path.join(dir, `${h('d')}-p`));
    const second = await captureLowerBaseline({ realStoreDir: dir, db: path.join(dir, 'no-db.sqlite') }, { previous: first });
    assert.deepEqual(diffLowerBaselines(first, second), { added: [`${h('d')}-p`], removed: [`${h('a')}-p`], db: 'unchanged', daemon: 'unknown' });
  });
});
