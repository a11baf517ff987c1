import assert from 'node:assert/strict';
import { MountTable, parseMountinfo } from '../../agent/mount/index.ts';
import { diffMountViews, mountViewOf } from '../../agent/watch/index.ts';

// Lines in the kernel's format, as /proc/self/mountinfo printed them for an overlay at /m/merged (kernel 6.18).
const ROOT = '22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw';
const OVERLAY = '65 22 0:39 / /m/merged rw,relatime - overlay overlay rw,lowerdir=/m/lower,upperdir=/m/upper,workdir=/m/work,uuid=on';
const OVERLAY_RO = '65 22 0:39 / /m/merged ro,relatime - overlay overlay rw,lowerdir=/m/lower,upperdir=/m/upper,workdir=/m/work,uuid=on';
const OVERLAY_NEW = '70 22 0:41 / /m/merged rw,relatime - overlay overlay rw,lowerdir=/m/lower,upperdir=/m/upper,workdir=/m/work,uuid=on';
const TMPFS_ON_TOP = '71 65 0:42 / /m/merged rw,relatime - tmpfs cover rw';

const view = (...lines: string[]) => mountViewOf(new MountTable(parseMountinfo(lines.join('\n') + '\n').mounts), '/m/merged');
const whats = (before: ReturnType<typeof view>, after: ReturnType<typeof view>) => diffMountViews(before, after).map((c) => c.what);

describe('watch/mount-view', () => {
  it('finds the overlay at the merged dir and what is stacked on it', () => {
    const plain = view(ROOT, OVERLAY);
    assert.equal(plain.overlay?.mountId, 65);
    assert.equal(plain.overlay?.line, OVERLAY);
    assert.deepEqual(plain.above, []);
    const covered = view(ROOT, OVERLAY, TMPFS_ON_TOP);
    assert.equal(covered.overlay?.mountId, 65);
    assert.deepEqual(
      covered.above.map((m) => m.fsType),
      ['tmpfs'],
    );
    assert.equal(view(ROOT).overlay, null);
  });

  it('names each change: unmounted, mounted, remounted, options changed, stacked, unstacked', () => {
    assert.deepEqual(whats(view(ROOT, OVERLAY), view(ROOT, OVERLAY)), []);
    assert.deepEqual(whats(view(ROOT, OVERLAY), view(ROOT)), ['unmounted']);
    assert.deepEqual(whats(view(ROOT), view(ROOT, OVERLAY)), ['mounted']);
    assert.deepEqual(whats(view(ROOT, OVERLAY), view(ROOT, OVERLAY_NEW)), ['remounted']);
    assert.deepEqual(whats(view(ROOT, OVERLAY), view(ROOT, OVERLAY_RO)), ['options-changed']);
    assert.deepEqual(whats(view(ROOT, OVERLAY), view(ROOT, OVERLAY, TMPFS_ON_TOP)), ['stacked']);
    assert.deepEqual(whats(view(ROOT, OVERLAY, TMPFS_ON_TOP), view(ROOT, OVERLAY)), ['unstacked']);
  });

  it('keeps both views as evidence', () => {
    const before = view(ROOT, OVERLAY);
    const after = view(ROOT, OVERLAY_RO);
    const [change] = diffMountViews(before, after);
    assert.deepEqual(change?.before.overlay?.mountOptions, ['rw', 'relatime']);
    assert.deepEqual(change?.after.overlay?.mountOptions, ['ro', 'relatime']);
  });
});
