import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAmount } from '../../agent/config/byte-size.ts';
import { FS_VIEW, mountFactsFromTable } from '../../agent/checks/mount-facts.ts';
import { decideUpperLayerFiles, probeUpperLayer, sampleDirentTypes, type UpperLayerFacts } from '../../agent/checks/upper-layer-files.ts';
import { parseMountinfo } from '../../agent/mount/mountinfo.ts';
import { ids, layoutOf } from './literal-facts.ts';

const GiB = 2 ** 30;
const FS = { mountPoint: '/x', device: '8:1', fsType: 'ext4', readOnly: false, line: '30 1 8:1 / /x rw - ext4 /dev/sdb rw' };
const healthy: UpperLayerFacts = {
  path: '/x/upper',
  state: { kind: 'ok' },
  writable: { ok: true, errno: undefined, uid: 0 },
  fs: FS,
  userxattr: false,
  xattrs: 'yes',
  dType: { supported: 'yes', from: 'readdir', sampled: 10, untyped: 0 },
  space: { bsize: 4096, blocks: (100 * GiB) / 4096, bavail: (50 * GiB) / 4096, files: 1_000_000, ffree: 900_000 },
};
const thresholds = { minFreeSpace: parseAmount('5%')!, minFreeInodes: parseAmount('5%')!, expectReadOnly: false };

describe('check layer.upper', () => {
  describe('deciding (pure)', () => {
    it('nothing for a healthy upper layer', () => {
      assert.deepEqual(decideUpperLayerFiles(healthy, thresholds), []);
    });

    it('layer.upper-missing and layer.upper-not-directory (errors), and nothing else then', () => {
      assert.deepEqual(ids(decideUpperLayerFiles({ ...healthy, state: { kind: 'missing', errno: 'ENOENT' } }, thresholds)), ['layer.upper-missing']);
      assert.deepEqual(ids(decideUpperLayerFiles({ ...healthy, state: { kind: 'not-directory', errno: undefined } }, thresholds)), [
        'layer.upper-not-directory',
      ]);
    });

    it('layer.upper-not-writable (error) for EROFS or a read-only mount, unless the store is meant to be read-only', () => {
      const [f] = decideUpperLayerFiles({ ...healthy, writable: { ok: false, errno: 'EROFS', uid: 0 } }, thresholds);
      assert.equal(f?.id, 'layer.upper-not-writable');
      assert.equal(f?.evidence['errno'], 'EROFS');
      assert.deepEqual(ids(decideUpperLayerFiles({ ...healthy, fs: { ...FS, readOnly: true } }, thresholds)), ['layer.upper-not-writable']);
      assert.deepEqual(decideUpperLayerFiles({ ...healthy, fs: { ...FS, readOnly: true } }, { ...thresholds, expectReadOnly: true }), []);
    });

    it('check.unprivileged, not layer.upper-not-writable, when only the permission bits refuse a user other than root', () => {
      const refused = { ...healthy, writable: { ok: false, errno: 'EACCES', uid: 65534 } };
      const [f, ...more] = decideUpperLayerFiles(refused, thresholds);
      assert.deepEqual([f?.id, f?.severity, more], ['check.unprivileged', 'warning', []]);
      assert.deepEqual([f?.evidence['uid'], f?.evidence['errno'], f?.evidence['path']], [65534, 'EACCES', '/x/upper']);
      assert.match(f?.message ?? '', /ran unprivileged \(uid 65534\): it could not judge whether root can write the upper layer \/x\/upper/);
      // What refuses root too is a finding about the layer, whoever ran the check.
      assert.deepEqual(ids(decideUpperLayerFiles({ ...healthy, writable: { ok: false, errno: 'EACCES', uid: 0 } }, thresholds)), ['layer.upper-not-writable']);
      assert.deepEqual(ids(decideUpperLayerFiles({ ...refused, writable: { ok: false, errno: 'EROFS', uid: 65534 } }, thresholds)), [
        'layer.upper-not-writable',
      ]);
      assert.deepEqual(ids(decideUpperLayerFiles({ ...refused, writable: { ok: false, errno: 'EPERM', uid: 65534 } }, thresholds)), [
        'layer.upper-not-writable',
      ]);
      assert.deepEqual(ids(decideUpperLayerFiles({ ...refused, fs: { ...FS, readOnly: true } }, thresholds)), ['layer.upper-not-writable']);
      // A store meant to be read-only has nothing to judge there.
      assert.deepEqual(decideUpperLayerFiles(refused, { ...thresholds, expectReadOnly: true }), []);
    });

    it('layer.upper-no-xattr naming the namespace the mount needs', () => {
      const [f] = decideUpperLayerFiles({ ...healthy, xattrs: 'no', userxattr: true, fs: { ...FS, fsType: 'tmpfs' } }, thresholds);
      assert.equal(f?.id, 'layer.upper-no-xattr');
      assert.equal(f?.evidence['xattrNamespace'], 'user.overlay.*');
    });

    it('layer.upper-no-d-type when readdir returned untyped entries', () => {
      const [f] = decideUpperLayerFiles({ ...healthy, dType: { supported: 'no', from: 'readdir', sampled: 32, untyped: 32 } }, thresholds);
      assert.equal(f?.id, 'layer.upper-no-d-type');
      assert.equal(f?.severity, 'warning');
    });

    it('layer.upper-low-space and layer.upper-low-inodes against a share or an absolute threshold', () => {
      const tight = { ...healthy, space: { bsize: 4096, blocks: (100 * GiB) / 4096, bavail: GiB / 4096, files: 1_000_000, ffree: 1000 } };
      const found = decideUpperLayerFiles(tight, thresholds);
      assert.deepEqual(ids(found), ['layer.upper-low-space', 'layer.upper-low-inodes']);
      assert.equal(found[0]?.evidence['thresholdBytes'], 5 * GiB);
      assert.equal(found[1]?.evidence['thresholdInodes'], 50_000);
      assert.deepEqual(decideUpperLayerFiles(tight, { ...thresholds, minFreeSpace: parseAmount('512MiB')!, minFreeInodes: parseAmount(500)! }), []);
    });

    it('says how much space is left in units that fit a small filesystem', () => {
      // A full 4 MiB tmpfs, as statfs reports it.
      const full = { ...healthy, space: { bsize: 4096, blocks: 1024, bavail: 0, files: 1_000_000, ffree: 900_000 } };
      const [low] = decideUpperLayerFiles(full, thresholds);
      assert.equal(low?.id, 'layer.upper-low-space');
      assert.match(low?.message ?? '', /has 0 B available of 4\.00 MiB, below the threshold of 205 KiB:/);
      const small = { ...full, space: { ...full.space, bavail: 10 } };
      assert.match(decideUpperLayerFiles(small, thresholds)[0]?.message ?? '', /has 40\.0 KiB available of 4\.00 MiB/);
    });

    it('no inode check on a filesystem without an inode table (statfs files = 0)', () => {
      assert.deepEqual(decideUpperLayerFiles({ ...healthy, space: { ...healthy.space!, files: 0, ffree: 0 } }, thresholds), []);
    });
  });

  describe('probing (no writes)', () => {
    let dir = '';
    before(() => {
      dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-upper-')));
      fs.mkdirSync(path.join(dir, 'upper/sub'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'upper/file'), '');
      fs.symlinkSync('file', path.join(dir, 'upper/link'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads entry types from readdir on this filesystem, and at most the sample size', () => {
      assert.deepEqual(sampleDirentTypes(path.join(dir, 'upper')), { sampled: 3, untyped: 0 });
      assert.deepEqual(sampleDirentTypes(path.join(dir, 'upper'), 2), { sampled: 2, untyped: 0 });
    });

    it('probes a real directory: writable, typed entries, statfs figures; a 100% threshold warns', () => {
      const layout = layoutOf(`local-overlay://?root=${dir}/m&lower-store=${dir}/lower&upper-layer=${dir}/upper`);
      const table = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
      const facts = probeUpperLayer(mountFactsFromTable({ mountinfoFile: '/proc/self/mountinfo', parsed: table, layout, view: FS_VIEW }));
      assert.deepEqual(facts.state, { kind: 'ok' });
      assert.equal(facts.writable?.ok, true);
      assert.equal(facts.dType.from, 'readdir');
      assert.equal(facts.dType.supported, 'yes');
      assert.ok(facts.fs !== undefined);
      assert.ok((facts.space?.blocks ?? 0) > 0 && (facts.space?.bavail ?? 0) < (facts.space?.blocks ?? 0));
      assert.deepEqual(
        decideUpperLayerFiles(facts, { ...thresholds, minFreeSpace: parseAmount('100%')! }).map((f) => f.id),
        ['layer.upper-low-space'],
      );
    });

    it('reports a missing upper layer', () => {
      const layout = layoutOf(`local-overlay://?root=${dir}/m&lower-store=${dir}/lower&upper-layer=${dir}/nope`);
      const facts = probeUpperLayer(mountFactsFromTable({ mountinfoFile: 'x', parsed: parseMountinfo(''), layout, view: FS_VIEW }));
      assert.deepEqual(ids(decideUpperLayerFiles(facts, thresholds)), ['layer.upper-missing']);
    });
  });
});
