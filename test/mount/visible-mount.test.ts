import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MountPathError,
  MountTable,
  escapeMountinfoPath,
  findMountContaining,
  findVisibleMount,
  mountTableOf,
  mountsStackedOn,
  parseMountinfo,
  type MountinfoEntry,
} from '../../agent/mount/index.ts';
import { FIXTURE_ROOT, entryAt, fixtureMounts } from './fixtures.ts';

type Row = readonly [id: number, parent: number, mountPoint: string, fsType?: string];

/** A mount table from rows, through the real parser (device 0:id, source named after the id). */
function table(rows: readonly Row[]): readonly MountinfoEntry[] {
  const text = rows
    .map(([id, parent, point, fsType = 'tmpfs']) => `${id} ${parent} 0:${id} / ${escapeMountinfoPath(point)} rw,relatime - ${fsType} src${id} rw`)
    .join('\n');
  const { mounts, errors } = parseMountinfo(text);
  assert.deepEqual(errors, []);
  return mounts;
}

const ids = (entries: readonly MountinfoEntry[]): number[] => entries.map((e) => e.mountId);

describe('visible-mount', () => {
  describe('hand-written tables', () => {
    // 1 is the namespace root (its parent 0 is not in the table, as in every real table).
    const simple: Row[] = [
      [1, 0, '/', 'ext4'],
      [2, 1, '/nix'],
      [3, 2, '/nix/store', 'overlay'],
      [4, 1, '/mnt'],
    ];

    it('finds the mount at a mount point, and the mount holding any path', () => {
      const t = new MountTable(table(simple));
      assert.equal(t.findVisibleMount('/nix/store')?.mountId, 3);
      assert.equal(t.findVisibleMount('/nix/store/')?.mountId, 3);
      assert.equal(t.findVisibleMount('//nix/./store')?.mountId, 3);
      assert.equal(t.findVisibleMount('/')?.mountId, 1);
      assert.equal(t.findVisibleMount('/nix/store/abc-foo'), undefined);
      assert.equal(t.findVisibleMount('/etc'), undefined);
      assert.equal(t.findMountContaining('/nix/store/abc-foo/bin')?.mountId, 3);
      assert.equal(t.findMountContaining('/nix/var')?.mountId, 2);
      assert.equal(t.findMountContaining('/nixos')?.mountId, 1);
      assert.equal(t.findMountContaining('/mnt/x/../y')?.mountId, 4);
      assert.deepEqual(ids(t.stackAt('/nix/store')), [3]);
      assert.deepEqual(ids(t.stackAt('/etc')), []);
    });

    it('takes the top of a stack at one mount point, following parent ids', () => {
      // overlay 3, then a tmpfs 5 on it, then a bind 6 on that.
      const t = new MountTable(table([...simple, [5, 3, '/nix/store'], [6, 5, '/nix/store', 'ext4']]));
      assert.equal(t.findVisibleMount('/nix/store')?.mountId, 6);
      assert.deepEqual(ids(t.stackAt('/nix/store')), [3, 5, 6]);
      const overlay = t.byId(3) as MountinfoEntry;
      assert.deepEqual(ids(t.mountsStackedOn(overlay)), [5, 6]);
      assert.deepEqual(ids(t.mountsStackedOn(t.byId(5) as MountinfoEntry)), [6]);
      assert.deepEqual(ids(t.mountsStackedOn(t.byId(6) as MountinfoEntry)), []);
      assert.equal(t.isVisible(overlay), false);
      assert.deepEqual(ids(t.entriesAt('/nix/store')), [3, 5, 6]);
    });

    it('does not depend on line order or on ids growing up the stack', () => {
      // Bottom 30, then 12 on it, then 25 on 12 (ids reused out of order); a sibling 7 elsewhere.
      const rows: Row[] = [
        [1, 0, '/', 'ext4'],
        [30, 1, '/x', 'overlay'],
        [12, 30, '/x'],
        [25, 12, '/x'],
        [7, 1, '/x/y'],
        [8, 25, '/x/z'],
      ];
      fc.assert(
        fc.property(fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }), (shuffled) => {
          const t = new MountTable(table(shuffled));
          assert.equal(t.findVisibleMount('/x')?.mountId, 25);
          assert.deepEqual(ids(t.stackAt('/x')), [30, 12, 25]);
          // 7 hangs off the root at /x/y, but /x is covered, so a lookup of /x/y never reaches it.
          assert.equal(t.findVisibleMount('/x/y'), undefined);
          assert.equal(t.findMountContaining('/x/y')?.mountId, 25);
          assert.equal(t.findVisibleMount('/x/z')?.mountId, 8);
        }),
        { numRuns: 200 },
      );
    });

    it('hides a mount under a later mount at the same point, and one placed beneath a stack', () => {
      // A (10) at /m; B (11) mounted on it later; C (20) slid beneath A later (move_mount beneath): A's parent is C.
      const t = new MountTable(
        table([
          [1, 0, '/', 'ext4'],
          [10, 20, '/m'],
          [11, 10, '/m'],
          [20, 1, '/m'],
        ]),
      );
      assert.equal(t.findVisibleMount('/m')?.mountId, 11);
      assert.deepEqual(ids(t.stackAt('/m')), [20, 10, 11]);
      assert.deepEqual(ids(t.mountsStackedOn(t.byId(20) as MountinfoEntry)), [10, 11]);
    });

    it('hides a mount whose mount point lies under a later mount on an ancestor, and the children of a covered mount', () => {
      const t = new MountTable(
        table([
          [1, 0, '/', 'ext4'],
          [2, 1, '/a/b'],
          [3, 1, '/a'],
          [4, 1, '/s', 'overlay'],
          [5, 4, '/s/sub'],
          [6, 4, '/s'],
        ]),
      );
      assert.equal(t.findVisibleMount('/a/b'), undefined);
      assert.equal(t.findMountContaining('/a/b/c')?.mountId, 3);
      assert.equal(t.isVisible(t.byId(2) as MountinfoEntry), false);
      assert.deepEqual(ids(t.entriesAt('/a/b')), [2]);
      assert.equal(t.findVisibleMount('/s')?.mountId, 6);
      assert.equal(t.findVisibleMount('/s/sub'), undefined);
      assert.equal(t.findMountContaining('/s/sub/x')?.mountId, 6);
    });

    it('answers from a partial table: an orphan line stands where no attached mount does', () => {
      // Only the overlay line of a saved table: its parent 43 is absent.
      const alone = new MountTable(table([[68, 43, '/nix/store', 'overlay']]));
      assert.equal(alone.findVisibleMount('/nix/store')?.mountId, 68);
      assert.equal(alone.findMountContaining('/nix/store/x')?.mountId, 68);
      assert.equal(alone.findMountContaining('/etc'), undefined);
      // With the root: an attached mount wins over an orphan at the same point.
      const both = new MountTable(
        table([
          [1, 0, '/', 'ext4'],
          [9, 999, '/m'],
          [2, 1, '/m'],
        ]),
      );
      assert.equal(both.findVisibleMount('/m')?.mountId, 2);
    });

    it('treats a mount that is its own parent as a root', () => {
      const t = new MountTable(
        table([
          [1, 1, '/', 'rootfs'],
          [2, 1, '/', 'ext4'],
          [3, 2, '/nix/store', 'overlay'],
        ]),
      );
      assert.equal(t.findVisibleMount('/')?.mountId, 2);
      assert.equal(t.findVisibleMount('/nix/store')?.mountId, 3);
    });

    it('stops on a parent cycle', () => {
      const t = new MountTable(
        table([
          [1, 0, '/', 'ext4'],
          [5, 6, '/c'],
          [6, 5, '/c'],
          [7, 1, '/c'],
        ]),
      );
      assert.equal(t.findVisibleMount('/c')?.mountId, 7);
      assert.deepEqual(ids(t.mountsStackedOn(t.byId(5) as MountinfoEntry)), [6]);
    });

    it('refuses a relative path with a typed error', () => {
      const t = new MountTable(table(simple));
      for (const lookup of [() => t.findVisibleMount('nix/store'), () => t.findMountContaining(''), () => t.stackAt('./x')]) {
        assert.throws(lookup, (e: unknown) => e instanceof MountPathError && e.code === 'MOUNT_PATH_NOT_ABSOLUTE');
      }
    });

    it('gives the same answers through the free functions, building one table per array', () => {
      const mounts = table([...simple, [5, 3, '/nix/store']]);
      assert.equal(mountTableOf(mounts), mountTableOf(mounts));
      const t = new MountTable(mounts);
      assert.equal(mountTableOf(t), t);
      for (const source of [mounts, t]) {
        assert.equal(findVisibleMount(source, '/nix/store')?.mountId, 5);
        assert.equal(findMountContaining(source, '/nix/store/x')?.mountId, 5);
        assert.deepEqual(ids(mountsStackedOn(source, t.byId(3) as MountinfoEntry)), [5]);
      }
    });
  });

  describe('captured fixtures', () => {
    it('stacked: the bind on the tmpfs on the overlay is visible; the overlay and its submount are not', () => {
      const B = `${FIXTURE_ROOT}/stacked`;
      const mounts = fixtureMounts('stacked');
      const t = new MountTable(mounts);
      const stack = t.stackAt(`${B}/merged/nix/store`);
      // Mount order: overlay, tmpfs stacked-fs, bind of elsewhere.
      assert.deepEqual(
        stack.map((e) => [e.fsType, e.source]),
        [
          ['overlay', 'overlay'],
          ['tmpfs', 'stacked-fs'],
          ['ext4', entryAt(mounts, '/').source],
        ],
      );
      assert.equal(t.findVisibleMount(`${B}/merged/nix/store`), stack[2]);
      assert.deepEqual(t.mountsStackedOn(stack[0] as MountinfoEntry), stack.slice(1));
      assert.equal(t.findVisibleMount(`${B}/merged/nix/store/sub`), undefined);
      assert.equal(entryAt(mounts, `${B}/merged/nix/store/sub`).source, 'sub-fs');
      // hidden-fs at hide/a/b, then cover-fs at hide/a.
      assert.equal(t.findVisibleMount(`${B}/hide/a/b`), undefined);
      assert.equal(t.findMountContaining(`${B}/hide/a/b`)?.source, 'cover-fs');
      assert.equal(t.findVisibleMount(`${B}/hide/a`)?.source, 'cover-fs');
    });

    it('the host tables: /dev/shm is a stack of two tmpfs, the top one visible', () => {
      const t = new MountTable(fixtureMounts('three-lowerdirs'));
      const shm = t.stackAt('/dev/shm');
      assert.equal(shm.length, 2);
      assert.equal(shm[1]?.parentId, shm[0]?.mountId);
      assert.equal(t.findVisibleMount('/dev/shm'), shm[1]);
    });

    it('three-lowerdirs: which filesystem each layer is on', () => {
      const B = `${FIXTURE_ROOT}/three-lowerdirs`;
      const mounts = fixtureMounts('three-lowerdirs');
      const t = new MountTable(mounts);
      // upper and work live on the tmpfs mounted at $B/upper; the lower layers on the root filesystem.
      const upperFs = entryAt(mounts, `${B}/upper`);
      assert.equal(upperFs.source, 'upper-fs');
      assert.equal(t.findMountContaining(`${B}/upper/store`), upperFs);
      assert.equal(t.findMountContaining(`${B}/upper/work`), upperFs);
      assert.equal(t.findMountContaining(`${B}/lower/nix/store`), entryAt(mounts, '/'));
      assert.equal(t.findVisibleMount(`${B}/merged/nix/store`)?.fsType, 'overlay');
    });

    it('propagation: overlays propagated to peers and slaves are each visible at their own point', () => {
      const B = `${FIXTURE_ROOT}/propagation`;
      const t = new MountTable(fixtureMounts('propagation'));
      for (const dir of ['shared', 'peer', 'slave']) {
        const m = t.findVisibleMount(`${B}/${dir}/m`);
        assert.equal(m?.fsType, 'overlay');
        assert.equal(t.byId(m.parentId)?.mountPoint, `${B}/${dir}`);
      }
    });

    it('escaped mount points are looked up by their real names', () => {
      const B = `${FIXTURE_ROOT}/escaped-paths`;
      const t = new MountTable(fixtureMounts('escaped-paths'));
      assert.equal(t.findVisibleMount(`${B}/merged dir\\1`)?.fsType, 'overlay');
      assert.equal(t.findVisibleMount(`${B}/new\nline`)?.source, 'my tmp');
    });
  });
});
