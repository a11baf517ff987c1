/** What a top-level entry of a store dir or upper layer is: a store object, a Nix lock file, or an OverlayFS whiteout. */
import { classifyOverlayEntry, isWhiteout, type EntryType } from '../mount/index.ts';
import { isValidStorePathName } from '../store/index.ts';

/** `object`: a store path; `lock`: Nix's `<path>.lock` file; `whiteout`: an OverlayFS deletion mark (classifyOverlayEntry). */
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
 * (`.links`, temp files). A whiteout is what classifyOverlayEntry calls one from the lstat alone: a char device 0/0
 * (the xattr form, an empty file marked `overlay.whiteout`, needs its xattrs read, a child process per file, which
 * a listing of a million entries cannot afford: it counts as an object). A lock file is a regular file of at most one
 * byte named `<valid store path name>.lock`. Pure.
 */
export function entryKindOf(name: string, stats: EntryType & { readonly rdev: number; readonly size: number }): StoreDirEntryKind | undefined {
  if (!isValidStorePathName(name)) return undefined;
  if (isWhiteout(classifyOverlayEntry(stats))) return 'whiteout';
  if (stats.isFile() && stats.size <= 1 && isLockFileName(name)) return 'lock';
  return 'object';
}
