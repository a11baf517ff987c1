/** Reads a file whole after checking its type, with a cap: no read can block (a FIFO) or run without end (/dev/zero). */
import fs from 'node:fs';
import { TrustError } from './trust-error.ts';

export const KIB = 1024;
export const MIB = 1024 * KIB;

/** What is read, for messages ("configuration file", "mount table"), and how many bytes it may have. */
export interface ReadLimit {
  readonly what: string;
  readonly maxBytes: number;
}

/**
 * Flags for opening a file whose type is not known yet: O_NONBLOCK so that opening a FIFO returns at once (without
 * it, open waits for a writer, forever), O_NOCTTY so that a terminal never becomes the agent's.
 */
export const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

/** Bytes asked of the kernel per read once the expected size is read (or for /proc files, which report size 0). */
const CHUNK_BYTES = 64 * KIB;

/** The type of a file in words, for messages. Pure. */
export function fileTypeOf(stat: fs.Stats): string {
  if (stat.isFile()) return 'regular file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  if (stat.isSocket()) return 'socket';
  return 'file of unknown type';
}

/** A cap in words: `1 MiB`, `4 KiB`, `100 bytes`. Pure. */
export function describeCap(bytes: number): string {
  if (bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} bytes`;
}

/**
 * Throws TrustError FILE_WRONG_TYPE for what a read could block on or never finish: a FIFO, a device, a socket.
 * Regular files pass, the kernel's /proc and /sys files among them (regular files that report size 0); so does a
 * directory, whose read then fails with EISDIR, as it always did.
 */
export function assertReadableType(stat: fs.Stats, file: string, what: string): void {
  if (stat.isFile() || stat.isDirectory()) return;
  const type = fileTypeOf(stat);
  throw new TrustError('FILE_WRONG_TYPE', `${what} ${file} is a ${type}, not a regular file`, {
    evidence: { file, type, expected: 'regular file' },
    hint: `point it at a regular file (a ${type} can block a read forever or never end)`,
  });
}

/** The bytes read so far, checked against the cap after every read. */
class CappedBytes {
  readonly #file: string;
  readonly #limit: ReadLimit;
  readonly #size: number;
  readonly #chunks: Buffer[] = [];
  #total = 0;

  constructor(file: string, stat: fs.Stats, limit: ReadLimit) {
    this.#file = file;
    this.#limit = limit;
    // Only a regular file's size says how much it holds (a directory's is its listing's, a /proc file's is 0).
    this.#size = stat.isFile() ? stat.size : 0;
    if (this.#size > limit.maxBytes) throw tooLarge(file, this.#size, limit);
  }

  /** Where the next read goes: the expected size first, then chunks; never past one byte over the cap. */
  next(): Buffer {
    const wanted = this.#total === 0 && this.#size > 0 ? this.#size + 1 : CHUNK_BYTES;
    return Buffer.allocUnsafe(Math.min(wanted, this.#limit.maxBytes + 1 - this.#total));
  }

  /** Records a read of `count` bytes into `chunk`; false at the end of the file. Throws FILE_TOO_LARGE past the cap. */
  took(chunk: Buffer, count: number): boolean {
    if (count === 0) return false;
    this.#chunks.push(chunk.subarray(0, count));
    this.#total += count;
    if (this.#total > this.#limit.maxBytes) throw tooLarge(this.#file, this.#size > 0 ? this.#size : undefined, this.#limit);
    return true;
  }

  bytes(): Buffer {
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#total);
  }
}

function tooLarge(file: string, size: number | undefined, limit: ReadLimit): TrustError {
  const cap = describeCap(limit.maxBytes);
  const how = size === undefined ? `holds more than ${cap}` : `is ${size} bytes, more than ${cap}`;
  return new TrustError('FILE_TOO_LARGE', `${limit.what} ${file} ${how}, the most overlay-warden reads of it`, {
    evidence: { file, size, maxBytes: limit.maxBytes },
    hint: `a ${limit.what} is never that large: check that this is the right file`,
  });
}

/**
 * Reads everything from the open descriptor `fd` (whose fstat is `stat`): checks the type, then reads at most
 * `limit.maxBytes`. Throws TrustError FILE_WRONG_TYPE or FILE_TOO_LARGE, or Node's error of a failed read (EISDIR).
 */
export function readOpenedSync(fd: number, stat: fs.Stats, file: string, limit: ReadLimit): Buffer {
  assertReadableType(stat, file, limit.what);
  const bytes = new CappedBytes(file, stat, limit);
  for (;;) {
    const chunk = bytes.next();
    if (!bytes.took(chunk, fs.readSync(fd, chunk, 0, chunk.length, null))) return bytes.bytes();
  }
}

/**
 * Opens `file` (symlinks followed: for files read as data, not trusted), checks its type and reads it with a cap.
 * Throws TrustError FILE_WRONG_TYPE or FILE_TOO_LARGE, or Node's error of a failed open or read (ENOENT, EACCES…).
 */
export function readBoundedSync(file: string, limit: ReadLimit): Buffer {
  const fd = fs.openSync(file, READ_FLAGS);
  try {
    return readOpenedSync(fd, fs.fstatSync(fd), file, limit);
  } finally {
    fs.closeSync(fd);
  }
}

/** readBoundedSync without blocking the event loop: the same checks, cap and errors. */
export async function readBounded(file: string, limit: ReadLimit): Promise<Buffer> {
  const handle = await fs.promises.open(file, READ_FLAGS);
  try {
    const stat = await handle.stat();
    assertReadableType(stat, file, limit.what);
    const bytes = new CappedBytes(file, stat, limit);
    for (;;) {
      const chunk = bytes.next();
      if (!bytes.took(chunk, (await handle.read(chunk, 0, chunk.length, null)).bytesRead)) return bytes.bytes();
    }
  } finally {
    await handle.close();
  }
}
