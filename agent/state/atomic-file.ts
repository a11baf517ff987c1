/** Crash-safe state files: write to a temp file beside the target, fsync, rename; a reader sees old or new, never half. */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { WardenError, errnoCode, messageOf } from '../errors/index.ts';

export type StateFileErrorCode = 'STATE_WRITE_FAILED' | 'STATE_READ_FAILED' | 'STATE_CORRUPT';
export class StateFileError extends WardenError<StateFileErrorCode> {}

/**
 * Replaces `file` with `data` (a string, bytes, or chunks of bytes written in
 * order, possibly produced lazily) atomically (temp file, fsync, rename, fsync of the directory),
 * creating the directory (mode 0700) if needed. Throws
 * StateFileError STATE_WRITE_FAILED with the errno (ENOSPC: the disk is full;
 * the previous contents are kept).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | Iterable<Uint8Array>, mode = 0o600): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(temp, 'w', mode);
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
    renameSync(temp, file);
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (cause) {
    try {
      unlinkSync(temp);
    } catch {
      // The temp file may never have been created; nothing to clean.
    }
    const code = errnoCode(cause);
    throw new StateFileError('STATE_WRITE_FAILED', `cannot write state file ${file}: ${messageOf(cause)}`, {
      cause,
      evidence: { file, errno: code },
      hint: code === 'ENOSPC' ? `free space on the filesystem of ${dir}; the previous state is kept` : `check that ${dir} is writable by the agent`,
    });
  }
}

/** Reads `file` as UTF-8, or undefined when it does not exist. Throws StateFileError STATE_READ_FAILED otherwise. */
export function readStateFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return undefined;
    throw new StateFileError('STATE_READ_FAILED', `cannot read state file ${file}: ${messageOf(cause)}`, {
      cause,
      evidence: { file },
      hint: 'check its permissions',
    });
  }
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
