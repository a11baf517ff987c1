/** A large, realistic mountinfo table (a busy Kubernetes node running containerd) for the mount-check benchmark. */
import { escapeMountinfoOptionValue, escapeMountinfoPath } from '../agent/mount/mountinfo-escape.ts';
import { prng } from './fixture-random.ts';

/** The store overlay hidden in the middle of `makeBusyMountTable`'s output, as a check would be configured. */
export const BUSY_TABLE_STORE = Object.freeze({
  mergedDir: '/nix/store',
  lowerStoreDir: '/mnt/cacache/nix/store',
  extraLowerDirs: Object.freeze(['/mnt/nixmodules/nix/store']),
  upperdir: '/mnt/nix/store',
  workdir: '/mnt/nix/work/store',
});

const SNAPSHOTS = '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots';
const TASKS = '/run/containerd/io.containerd.runtime.v2.task/k8s.io';
const SANDBOXES = '/run/containerd/io.containerd.grpc.v1.cri/sandboxes';
const PODS = '/var/lib/kubelet/pods';

/**
 * A mountinfo text of exactly `n` lines (n ≥ 64) as the host namespace of a busy container node would show it:
 * the host's own mounts (shared propagation, cgroup2, a stacked /dev/shm), then per pod a sandbox shm tmpfs, a
 * network namespace (nsfs), kubelet projected and secret volumes (tmpfs), and one containerd overlay rootfs per
 * container with 3–40 distinct snapshot lowerdirs. The local-overlay store (`BUSY_TABLE_STORE`, lower store on a
 * read-only ext4 mount, upper on its own ext4) is mounted when the table is half full, so a lookup cannot stop
 * early. Some kubelet volume names hold spaces, escaped as the kernel does. Deterministic for a given `n`.
 */
export function makeBusyMountTable(n = 10_000): string {
  if (!Number.isInteger(n) || n < 64) throw new RangeError(`makeBusyMountTable needs an integer n >= 64, not ${n}`);
  const rand = prng(0x5eed + n);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const hex = (len: number): string => Array.from({ length: len }, () => '0123456789abcdef'[int(0, 15)]).join('');
  const uuid = (): string => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  const lines: string[] = [];
  let nextId = 21;
  let nextMinor = 20;
  let nextPeer = 1;
  let nextSnapshot = 1;
  const add = (
    parent: number,
    dev: string,
    root: string,
    point: string,
    mountOpts: string,
    optional: string,
    fsType: string,
    source: string,
    superOpts: string,
  ): number => {
    const id = nextId++;
    const fields = [String(id), String(parent), dev, escapeMountinfoPath(root), escapeMountinfoPath(point), mountOpts];
    if (optional !== '') fields.push(optional);
    fields.push('-', fsType, escapeMountinfoPath(source), superOpts);
    lines.push(fields.join(' '));
    return id;
  };
  const anon = (): string => `0:${nextMinor++}`;
  const shared = (): string => `shared:${nextPeer++}`;

  // The host's own mounts.
  const root = add(1, '259:1', '/', '/', 'rw,relatime', shared(), 'ext4', '/dev/nvme0n1p1', 'rw,discard,errors=remount-ro');
  const sys = add(root, anon(), '/', '/sys', 'rw,nosuid,nodev,noexec,relatime', shared(), 'sysfs', 'sysfs', 'rw');
  add(sys, anon(), '/', '/sys/fs/cgroup', 'rw,nosuid,nodev,noexec,relatime', shared(), 'cgroup2', 'cgroup2', 'rw,nsdelegate,memory_recursiveprot');
  add(sys, anon(), '/', '/sys/kernel/security', 'rw,nosuid,nodev,noexec,relatime', shared(), 'securityfs', 'securityfs', 'rw');
  add(root, anon(), '/', '/proc', 'rw,nosuid,nodev,noexec,relatime', shared(), 'proc', 'proc', 'rw');
  const dev = add(root, '0:5', '/', '/dev', 'rw,nosuid,relatime', shared(), 'devtmpfs', 'udev', 'rw,size=16327412k,nr_inodes=4081853,mode=755,inode64');
  add(dev, anon(), '/', '/dev/pts', 'rw,nosuid,noexec,relatime', shared(), 'devpts', 'devpts', 'rw,gid=5,mode=620,ptmxmode=000');
  const shm = add(dev, anon(), '/', '/dev/shm', 'rw,nosuid,nodev', shared(), 'tmpfs', 'tmpfs', 'rw,inode64');
  add(shm, anon(), '/', '/dev/shm', 'rw,nosuid,nodev', shared(), 'tmpfs', 'tmpfs', 'rw,size=65536k,inode64');
  const run = add(root, anon(), '/', '/run', 'rw,nosuid,nodev,noexec,relatime', shared(), 'tmpfs', 'tmpfs', 'rw,size=3273304k,mode=755,inode64');
  add(run, anon(), '/', '/run/lock', 'rw,nosuid,nodev,noexec,relatime', shared(), 'tmpfs', 'tmpfs', 'rw,size=5120k,inode64');
  add(root, '259:2', '/', '/boot', 'rw,relatime', shared(), 'ext4', '/dev/nvme0n1p2', 'rw');
  const mnt = add(root, anon(), '/', '/mnt', 'rw,relatime', shared(), 'tmpfs', 'tmpfs', 'rw,size=1024k,inode64');
  add(root, '259:3', '/', '/var/lib/containerd', 'rw,relatime', shared(), 'xfs', '/dev/nvme1n1', 'rw,attr2,inode64,logbufs=8,logbsize=32k,prjquota');

  const storeLines = (): void => {
    const s = BUSY_TABLE_STORE;
    add(mnt, '253:0', '/', '/mnt/cacache', 'ro,relatime', shared(), 'ext4', '/dev/mapper/cacache', 'ro');
    add(mnt, '253:1', '/', '/mnt/nixmodules', 'ro,relatime', shared(), 'squashfs', '/dev/loop7', 'ro,errors=continue');
    add(mnt, '253:2', '/', '/mnt/nix', 'rw,relatime', shared(), 'ext4', '/dev/mapper/upper', 'rw');
    const lowerdir = [s.lowerStoreDir, ...s.extraLowerDirs].map(escapeMountinfoOptionValue).join(':');
    add(
      root,
      anon(),
      '/',
      s.mergedDir,
      'rw,relatime',
      shared(),
      'overlay',
      'overlay',
      `rw,lowerdir=${lowerdir},upperdir=${escapeMountinfoOptionValue(s.upperdir)},workdir=${escapeMountinfoOptionValue(s.workdir)},uuid=on,xino=off`,
    );
  };

  const half = Math.floor(n / 2);
  let storeDone = false;
  while (lines.length < n + 8) {
    if (!storeDone && lines.length >= half - 4) {
      storeLines();
      storeDone = true;
    }
    // One pod: a sandbox (pause) container and 1–4 app containers.
    const podUid = uuid();
    const sandbox = hex(64);
    add(run, anon(), '/', `${SANDBOXES}/${sandbox}/shm`, 'rw,nosuid,nodev,noexec,relatime', shared(), 'tmpfs', 'shm', 'rw,size=65536k,inode64');
    add(run, '0:4', `net:[${4026532000 + int(0, 99999)}]`, `/run/netns/cni-${uuid()}`, 'rw', shared(), 'nsfs', 'nsfs', 'rw');
    add(
      root,
      anon(),
      '/',
      `${PODS}/${podUid}/volumes/kubernetes.io~projected/kube-api-access-${hex(5)}`,
      'rw,relatime',
      shared(),
      'tmpfs',
      'tmpfs',
      `rw,size=${int(100, 400) * 1024}k,inode64,noswap`,
    );
    if (rand() < 0.4) {
      add(
        root,
        anon(),
        '/',
        `${PODS}/${podUid}/volumes/kubernetes.io~secret/${rand() < 0.2 ? 'tls certs' : 'tls-certs'}`,
        'rw,relatime',
        shared(),
        'tmpfs',
        'tmpfs',
        'rw,size=65536k,inode64,noswap',
      );
    }
    for (let c = 0, containers = int(1, 4); c <= containers; c++) {
      // Image layer counts skew low (most images have 5–15), up to 40: about what fits the 4096-byte option page.
      const layers = c === 0 ? 1 : 3 + Math.floor(rand() * rand() * 38);
      const chosen = new Set<number>();
      while (chosen.size < layers) chosen.add(int(1, nextSnapshot + 50));
      const lower = [...chosen].map((k) => `${SNAPSHOTS}/${k}/fs`);
      const snap = nextSnapshot++ + 1000;
      const id = c === 0 ? sandbox : hex(64);
      add(
        run,
        anon(),
        '/',
        `${TASKS}/${id}/rootfs`,
        'rw,relatime',
        shared(),
        'overlay',
        'overlay',
        `rw,lowerdir=${lower.join(':')},upperdir=${SNAPSHOTS}/${snap}/fs,workdir=${SNAPSHOTS}/${snap}/work,uuid=on`,
      );
    }
  }
  // Cut at n lines: parents always precede their children, so no kept line loses its parent.
  return `${lines.slice(0, n).join('\n')}\n`;
}
