/** What a top-level entry of a store dir or upper layer is: a store object, a Nix lock file, or an OverlayFS whiteout. */
import type fs from 'node:fs';
import { isValidStorePathName } from '../store/store-path.ts';

/** `object`: a store path; `lock`: Nix's `<path>.lock` file; `whiteout`: a char device 0/0 (OverlayFS deletion mark). */
export type StoreDirEntryKind = 'object' | 'lock' | 'whiteout';

const LOCK_SUFFIX = '.lock';

/**
 * True when `name` could be a Nix lock file: `<valid store path name>.lock`. Nix creates one beside each output it
 * builds or substitutes, empty while held; it writes `d` before unlinking it (PathLocks). Such names are also valid
 * store path names, so the file's size tells them apart (see entryKindOf).
 */
export function isLockFileName(name: string): boolean {
  return name.endsWith(LOCK_SUFFIX) && isValidStorePathName(name.slice(0, -LOCK_SUFFIX.length));
}

/**
 * The kind of the entry `name` with lstat result `stats`, or undefined when `name` is not a valid store path name
 * (`.links`, temp files). A whiteout is a char device with rdev 0 (the xattr form, a zero-size file with
 * `trusted.overlay.whiteout`, needs getxattr, which Node lacks: it counts as an object). A lock file is a regular
 * file of at most one byte named `<valid store path name>.lock`. Pure.
 */
export function entryKindOf(name: string, stats: Pick<fs.Stats, 'isCharacterDevice' | 'isFile' | 'rdev' | 'size'>): StoreDirEntryKind | undefined {
  if (!isValidStorePathName(name)) return undefined;
  if (stats.isCharacterDevice() && stats.rdev === 0) return 'whiteout';
  if (stats.isFile() && stats.size <= 1 && isLockFileName(name)) return 'lock';
  return 'object';
}
