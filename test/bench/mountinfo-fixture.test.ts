import assert from 'node:assert/strict';
import { BUSY_TABLE_STORE, makeBusyMountTable } from '../../bench/mountinfo-fixture.ts';
import { MountTable, mountAccess, parseMountinfo, parseOverlayOptions } from '../../agent/mount/index.ts';

describe('bench/mountinfo-fixture', () => {
  it('makes exactly n lines that all parse, deterministically', () => {
    for (const n of [64, 1000]) {
      const text = makeBusyMountTable(n);
      assert.equal(text, makeBusyMountTable(n));
      const { mounts, errors } = parseMountinfo(text);
      assert.deepEqual(errors, []);
      assert.equal(mounts.length, n);
      assert.equal(new Set(mounts.map((m) => m.mountId)).size, n);
    }
    assert.throws(() => makeBusyMountTable(10), RangeError);
  });

  it('hides the store overlay in the middle, visible, with the lower store first and the upper on its own filesystem', () => {
    const n = 10_000;
    const { mounts } = parseMountinfo(makeBusyMountTable(n));
    const table = new MountTable(mounts);
    const store = table.findVisibleMount(BUSY_TABLE_STORE.mergedDir);
    assert.ok(store);
    assert.ok(Math.abs(store.lineNumber - n / 2) < 20, `store overlay on line ${store.lineNumber}`);
    assert.deepEqual(table.mountsStackedOn(store), []);
    const o = parseOverlayOptions(store.superOptions);
    assert.deepEqual(
      o.lowerLayers.map((l) => l.path),
      [BUSY_TABLE_STORE.lowerStoreDir, ...BUSY_TABLE_STORE.extraLowerDirs],
    );
    assert.deepEqual([o.upperdir, o.workdir], [BUSY_TABLE_STORE.upperdir, BUSY_TABLE_STORE.workdir]);
    assert.equal(table.findMountContaining(BUSY_TABLE_STORE.upperdir), table.findMountContaining(BUSY_TABLE_STORE.workdir));
    const lowerFs = table.findMountContaining(BUSY_TABLE_STORE.lowerStoreDir);
    assert.ok(lowerFs && mountAccess(lowerFs).readOnly);
  });

  it('looks like a container node: many overlays with long lowerdir lists, all valid for the kernel', () => {
    const { mounts } = parseMountinfo(makeBusyMountTable(10_000));
    const overlays = mounts.filter((m) => m.fsType === 'overlay');
    assert.ok(overlays.length > 3000, `${overlays.length} overlays`);
    let longest = 0;
    for (const m of overlays) {
      const o = parseOverlayOptions(m.superOptions);
      longest = Math.max(longest, o.lowerLayers.length);
      assert.equal(new Set(o.lowerLayers.map((l) => l.path)).size, o.lowerLayers.length, 'a layer used twice');
      assert.ok(Buffer.byteLength(m.superOptionsRaw) < 4096, 'options over one page');
    }
    assert.ok(longest >= 30, `longest lowerdir list: ${longest}`);
    for (const fsType of ['tmpfs', 'nsfs', 'proc', 'cgroup2', 'ext4'])
      assert.ok(
        mounts.some((m) => m.fsType === fsType),
        fsType,
      );
    assert.ok(
      mounts.some((m) => m.mountPoint.includes(' ')),
      'no escaped path',
    );
  });
});
