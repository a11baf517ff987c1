/** Why a path has no NAR: the error type of nar.ts, and the two ways it arises (an odd file type, a failed read). */
import type fs from 'node:fs';
import { WardenError, errnoCode, escapeName, messageOf } from '../errors/index.ts';
import { classifyOverlayEntry } from '../mount/index.ts';

export type NarErrorCode = 'NAR_UNSUPPORTED_FILE_TYPE' | 'NAR_WHITEOUT' | 'NAR_FILE_CHANGED' | 'NAR_IO_ERROR' | 'NAR_OVERLAY_REDIRECT';

/** File types a NAR cannot hold. `whiteout` is OverlayFS's character device 0/0. */
export type UnsupportedFileType = 'fifo' | 'socket' | 'character-device' | 'block-device' | 'whiteout' | 'unknown';

/**
 * Why a path could not be serialised. Evidence: `path` (the file, not the root, escaped by escapeName: a name inside
 * a store object need not be UTF-8), plus `fileType` for NAR_UNSUPPORTED_FILE_TYPE and NAR_WHITEOUT, `errno` and
 * `syscall` for NAR_IO_ERROR, sizes for NAR_FILE_CHANGED.
 * NAR_OVERLAY_REDIRECT: a merged view (nar-merge.ts) whose lower object an OverlayFS redirect or metacopy puts elsewhere.
 */
export class NarError extends WardenError<NarErrorCode> {}

/** NAR_IO_ERROR for a system call on `path` that failed with `error` (an errno error). */
export function narIoError(path: string | Buffer, error: unknown): NarError {
  const errno = errnoCode(error);
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  const where = escapeName(path);
  return new NarError('NAR_IO_ERROR', `cannot read '${where}': ${errno ?? messageOf(error)}`, {
    evidence: { path: where, errno, syscall },
    cause: error,
  });
}

/**
 * NAR_WHITEOUT for an OverlayFS whiteout device, else NAR_UNSUPPORTED_FILE_TYPE, for `path` whose lstat is `st`
 * (neither a regular file, a directory nor a symlink). Nix refuses both alike. The other whiteout form, a zero-size
 * file marked by xattr, is a regular file to a NAR: serialising it takes no xattrs into account, as Nix's does not.
 */
export function unsupportedFileError(path: string | Buffer, st: fs.Stats): NarError {
  const where = escapeName(path);
  if (classifyOverlayEntry(st) === 'device-whiteout') {
    return new NarError('NAR_WHITEOUT', `'${where}' is an OverlayFS whiteout (character device 0/0): it has no NAR`, {
      evidence: { path: where, fileType: 'whiteout' satisfies UnsupportedFileType },
      hint: 'a whiteout in an OverlayFS upper layer hides a lower entry; hash the path through the merged store dir instead',
    });
  }
  const fileType: UnsupportedFileType = st.isFIFO()
    ? 'fifo'
    : st.isSocket()
      ? 'socket'
      : st.isCharacterDevice()
        ? 'character-device'
        : st.isBlockDevice()
          ? 'block-device'
          : 'unknown';
  return new NarError('NAR_UNSUPPORTED_FILE_TYPE', `'${where}' is a ${fileType}, which a NAR cannot hold`, {
    evidence: { path: where, fileType, mode: st.mode },
  });
}
