/** Crash-safe state files: write to a fresh temp file beside the target, fsync, rename; a reader sees old or new, never half. */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { getSystemErrorMessage } from 'node:util';
import { WardenError, errnoCode, messageOf } from '../errors/index.ts';
import { MIB, TrustError, inDirectory, readBoundedSync, withTrustedDirectory } from '../trust/index.ts';

/**
 * `STATE_WRITE_FAILED` / `STATE_READ_FAILED` (evidence: `file`, and `errno` for a write), `STATE_CORRUPT` (not the
 * expected contents), and the state dir refused at start or at a write: `STATE_DIR_NOT_DIRECTORY`,
 * `STATE_DIR_UNTRUSTED` (someone else owns it, a directory on its way, or can write it), `STATE_DIR_NOT_WRITABLE`.
 */
export type StateFileErrorCode =
  'STATE_WRITE_FAILED' | 'STATE_READ_FAILED' | 'STATE_CORRUPT' | 'STATE_DIR_NOT_DIRECTORY' | 'STATE_DIR_UNTRUSTED' | 'STATE_DIR_NOT_WRITABLE';

export class StateFileError extends WardenError<StateFileErrorCode> {}

/**
 * What went wrong, for a message: `EISDIR (illegal operation on a directory)` for a system error (whose own
 * message may name a /proc/self/fd path), the message of anything else.
 */
export function describeFailure(cause: unknown): string {
  const { code, errno } = (cause ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code === 'string' && typeof errno === 'number') return `${code} (${getSystemErrorMessage(errno)})`;
  return messageOf(cause);
}

/** The most bytes of a JSON state file read (the remount flag keeps at most 32 reasons: a few KiB). */
export const STATE_FILE_MAX_BYTES = 16 * MIB;

/**
 * Flags of a temp file: created here and now (O_EXCL), never through a symlink (O_NOFOLLOW), so nothing planted
 * under its name (a symlink to a file elsewhere) is ever written through.
 */
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A temp file name nobody can guess ahead: `.NAME.<16 random hex digits>.tmp`. */
export function tempNameOf(name: string): string {
  return `.${name}.${randomBytes(8).toString('hex')}.tmp`;
}

/**
 * Replaces `file` with `data` (a string, bytes, or chunks of bytes written in
 * order, possibly produced lazily) atomically: creates the directory (mode
 * 0700) if needed, opens it through the trust checks (owned by root or the
 * agent's user, writable by nobody else, nor any directory on its way), creates
 * a temp file of a random name in that very directory with O_EXCL|O_NOFOLLOW,
 * writes and fsyncs it, renames it over `file` and fsyncs the directory. Throws
 * StateFileError STATE_DIR_UNTRUSTED for a directory others could write, or
 * STATE_WRITE_FAILED with the errno (ENOSPC: the disk is full; the previous
 * contents are kept, and the temp file is removed).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | Iterable<Uint8Array>, mode = 0o600): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    withTrustedDirectory(dir, { what: 'state directory' }, ({ fd: dirFd }) => {
      const temp = inDirectory(dirFd, tempNameOf(basename(file)));
      const fd = openSync(temp, TEMP_FLAGS, mode);
      try {
        try {
          // Several chunks are written in turn, so a large state file need not be concatenated in memory first.
          const chunks = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
          for (const bytes of chunks) {
            let written = 0;
            while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
          }
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(temp, inDirectory(dirFd, basename(file)));
      } catch (error) {
        removeQuietly(temp);
        throw error;
      }
      fsyncSync(dirFd);
    });
  } catch (cause) {
    if (cause instanceof TrustError) {
      throw new StateFileError('STATE_DIR_UNTRUSTED', `cannot write state file ${file}: ${cause.message}`, {
        cause,
        evidence: cause.evidence,
        hint: cause.hint,
      });
    }
    const code = errnoCode(cause);
    throw new StateFileError('STATE_WRITE_FAILED', `cannot write state file ${file}: ${describeFailure(cause)}`, {
      cause,
      evidence: { file, errno: code },
      hint: code === 'ENOSPC' ? `free space on the filesystem of ${dir}; the previous state is kept` : `check that ${dir} is writable by the agent`,
    });
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or the directory went away: nothing more to clean.
  }
}

/**
 * The bytes of `file`, at most `maxBytes`, or undefined when it does not exist. Throws StateFileError
 * STATE_READ_FAILED otherwise (EISDIR, a FIFO or a device in its place, more bytes than the cap).
 */
export function readStateBytes(file: string, maxBytes: number): Buffer | undefined {
  try {
    return readBoundedSync(file, { what: 'state file', maxBytes });
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return undefined;
    throw new StateFileError('STATE_READ_FAILED', `cannot read state file ${file}: ${describeFailure(cause)}`, {
      cause,
      evidence: { file },
      hint: cause instanceof TrustError ? cause.hint : 'check its permissions',
    });
  }
}

/** Reads `file` as UTF-8 (at most STATE_FILE_MAX_BYTES), or undefined when it does not exist. Throws as readStateBytes. */
export function readStateFile(file: string): string | undefined {
  return readStateBytes(file, STATE_FILE_MAX_BYTES)?.toString('utf8');
}

/**
 * Reads and parses a JSON state file; undefined when absent. A file that is not
 * valid JSON throws StateFileError STATE_CORRUPT (callers decide whether to
 * start afresh; the file is left in place as evidence).
 */
export function readJsonStateFile<T>(file: string, validate: (value: unknown) => value is T): T | undefined {
  const text = readStateFile(file);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new StateFileError('STATE_CORRUPT', `state file ${file} is not valid JSON`, {
      cause,
      evidence: { file },
      hint: `move it aside; overlay-warden starts afresh without it`,
    });
  }
  if (!validate(value))
    throw new StateFileError('STATE_CORRUPT', `state file ${file} does not have the expected shape`, {
      evidence: { file },
      hint: 'move it aside; overlay-warden starts afresh without it',
    });
  return value;
}
