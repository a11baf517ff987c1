/** Whether the copies fit on the upper layer's filesystem: what they take (blocks and inodes) against statfs. */
import fs from 'node:fs';
import { childPath, type FsPath } from './copy-object.ts';

/** Space and inodes: what the copies take and what the filesystem has free for them. */
export interface SpaceCheck {
  readonly neededBytes: number;
  readonly neededInodes: number;
  readonly availableBytes: number;
  readonly availableInodes: number;
  readonly fits: boolean;
}

/** Kept free beyond the copies: Nix itself and the overlay's work dir need room on that filesystem too. */
export const SPACE_RESERVE_BYTES = 16 * 1024 * 1024;

/** Whether `need` fits in `free` with the reserve left over (pure). */
export function decideSpace(neededBytes: number, neededInodes: number, availableBytes: number, availableInodes: number): SpaceCheck {
  const fits = neededBytes + SPACE_RESERVE_BYTES <= availableBytes && neededInodes <= availableInodes;
  return { neededBytes, neededInodes, availableBytes, availableInodes, fits };
}

/**
 * What copying the objects `sources` takes on a filesystem of block size `blockSize`: each regular file's size
 * rounded up to whole blocks, a block per directory and symlink (a fair bound: small symlinks take none), an inode
 * per entry. Walks with lstat, never following symlinks.
 */
export function measureObjects(sources: readonly string[], blockSize: number): { bytes: number; inodes: number } {
  let bytes = 0;
  let inodes = 0;
  const walk = (path: FsPath): void => {
    const st = fs.lstatSync(path);
    inodes++;
    if (st.isFile()) bytes += Math.ceil(st.size / blockSize) * blockSize;
    else bytes += blockSize;
    if (st.isDirectory()) for (const name of fs.readdirSync(path, { encoding: 'buffer' })) walk(childPath(path, name));
  };
  for (const source of sources) walk(source);
  return { bytes, inodes };
}

/** Measures `sources` and compares with statfs of `upperLayer`. */
export function checkUpperSpace(upperLayer: string, sources: readonly string[]): SpaceCheck {
  const fsStats = fs.statfsSync(upperLayer);
  const { bytes, inodes } = measureObjects(sources, fsStats.bsize);
  // statfs reports 0 free inodes on filesystems without a fixed inode table (btrfs): only a real limit counts.
  const freeInodes = fsStats.files === 0 ? Number.MAX_SAFE_INTEGER : fsStats.ffree;
  return decideSpace(bytes, inodes, fsStats.bavail * fsStats.bsize, freeInodes);
}
