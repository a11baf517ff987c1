/** What a filesystem type can do for an OverlayFS upper layer (xattrs, d_type), known from its type alone, without writing a probe file. */
import os from 'node:os';

/** `yes`/`no` when the type settles it, `unknown` when it depends on the setup (FUSE, network filesystems, xfs's ftype…). */
export type Capability = 'yes' | 'no' | 'unknown';

/** Local disk filesystems that store trusted.* and user.* xattrs and fill d_type. */
const FULL = new Set(['ext3', 'ext4', 'btrfs', 'f2fs', 'zfs', 'jfs', 'bcachefs', 'reiserfs', 'ocfs2', 'gfs2']);
/** Filesystems with no xattrs at all (and so no opaque dirs or redirects for OverlayFS). */
const NO_XATTR = new Set(['vfat', 'msdos', 'exfat', 'ntfs', 'ntfs3', 'iso9660', 'udf', 'ramfs', 'hfsplus', 'minix']);
/** Network filesystems: no trusted.* xattrs. */
const NETWORK = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'afs', 'ceph']);

/** The kernel release as [major, minor]. */
function kernelVersion(release: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match === null ? [0, 0] : [Number(match[1]), Number(match[2])];
}

/**
 * Whether a filesystem of `fsType` keeps the xattrs OverlayFS writes in the upper layer: `trusted.overlay.*`, or
 * `user.overlay.*` with `userxattr`. tmpfs has had trusted xattrs for long and user xattrs since Linux 6.6
 * (judged from `kernelRelease`, this machine's by default). ext2 is `unknown` (xattrs are a mount option there).
 */
export function supportsOverlayXattrs(fsType: string, userxattr: boolean, kernelRelease: string = os.release()): Capability {
  if (FULL.has(fsType) || fsType === 'xfs') return 'yes';
  if (fsType === 'tmpfs') {
    if (!userxattr) return 'yes';
    const [major, minor] = kernelVersion(kernelRelease);
    return major > 6 || (major === 6 && minor >= 6) ? 'yes' : 'no';
  }
  if (NO_XATTR.has(fsType)) return 'no';
  if (NETWORK.has(fsType)) return userxattr ? 'unknown' : 'no';
  return 'unknown';
}

/** Whether readdir on `fsType` reports entry types (d_type), which OverlayFS needs to see whiteouts. xfs depends on ftype=1 (`unknown`). */
export function supportsDType(fsType: string): Capability {
  if (FULL.has(fsType) || fsType === 'tmpfs' || fsType === 'overlay' || fsType === 'ext2') return 'yes';
  return 'unknown';
}
