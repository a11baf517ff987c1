/** What an entry of an OverlayFS layer is to the merged view: an object, a whiteout (either form), an opaque dir, or odd (pure). */

/**
 * `directory`, `file`, `symlink`: an object the merged view shows (a store object, in a store's layer).
 * `opaque-directory`: a directory marked `overlay.opaque=y`, which hides the lower directory of its name instead of
 * merging with it. `device-whiteout`: a character device 0/0; `xattr-whiteout`: a zero-size regular file marked
 * `overlay.whiteout` (Linux ≥ 6.7). Either whiteout hides the lower entry of its name, and the merged view shows
 * nothing there. `other`: what no layer of a store should hold (FIFO, socket, block or other character device).
 */
export const OVERLAY_ENTRY_KINDS = ['directory', 'opaque-directory', 'file', 'symlink', 'device-whiteout', 'xattr-whiteout', 'other'] as const;
export type OverlayEntryKind = (typeof OVERLAY_ENTRY_KINDS)[number];

/**
 * What an entry's overlay xattrs say. The kernel reads `trusted.overlay.*`, or `user.overlay.*` on a mount with
 * `userxattr`; a layer alone does not tell which, so either namespace counts.
 */
export interface OverlayMarks {
  /** `overlay.opaque` is `y` (`x`, which marks a directory holding xattr whiteouts, is not opaque). */
  readonly opaque: boolean;
  /** `overlay.whiteout` is set, to any value. */
  readonly whiteout: boolean;
  /** `overlay.metacopy` is set: a regular file whose data is the lower layer's (`metacopy=on` copy-ups of metadata). */
  readonly metacopy?: boolean;
  /** `overlay.redirect` is set: a directory (`redirect_dir=on`) or metacopy file whose lower object is found elsewhere. */
  readonly redirect?: boolean;
}

/**
 * The facts the kind depends on: an lstat result (fs.Stats or BigIntStats), or readdir's fs.Dirent for an entry
 * that is not a character device (a Dirent carries no device number).
 */
export interface EntryType {
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  readonly rdev?: number | bigint;
  readonly size?: number | bigint;
}

/**
 * The kind of a layer entry, from its type and, where they can change it, its overlay xattrs (`marks`; omitted:
 * read as none). Only a directory (opaque) or a zero-size regular file (xattr whiteout) depends on them (see
 * marksMatter). As the kernel does, a whiteout xattr on a file with contents is ignored.
 */
export function classifyOverlayEntry(entry: EntryType, marks?: OverlayMarks): OverlayEntryKind {
  if (entry.isDirectory()) return marks?.opaque === true ? 'opaque-directory' : 'directory';
  if (entry.isFile()) return marks?.whiteout === true && entry.size !== undefined && Number(entry.size) === 0 ? 'xattr-whiteout' : 'file';
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isCharacterDevice() && entry.rdev !== undefined && Number(entry.rdev) === 0) return 'device-whiteout';
  return 'other';
}

/** True when the entry's overlay xattrs can change its kind: a directory, or a regular file of size 0 (or unknown size). */
export function marksMatter(entry: EntryType): boolean {
  return entry.isDirectory() || (entry.isFile() && (entry.size === undefined || Number(entry.size) === 0));
}

/** True for either form of whiteout. */
export function isWhiteout(kind: OverlayEntryKind): kind is 'device-whiteout' | 'xattr-whiteout' {
  return kind === 'device-whiteout' || kind === 'xattr-whiteout';
}
