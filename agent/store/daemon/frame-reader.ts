/**
 * Synchronous decoding of the worker protocol's values from the bytes a socket has delivered so far: u64s, padded
 * strings and string lists, each length prefix checked against a cap before anything is allocated or awaited.
 *
 * A decoder reads from the last commit() on; when the bytes it needs have not all arrived, the read throws NEED_MORE
 * and the caller rewinds to that commit and tries again when more bytes are in. A decoder that commits part-way
 * (after each log message, after each list entry) keeps its own progress, so nothing is decoded twice but the
 * unfinished part: one reply costs no promise, and a reply split into many chunks is not parsed over and over.
 */
import { DaemonError } from './daemon-error.ts';
import { paddingOf } from './frame-encode.ts';

export interface FrameLimits {
  /** Largest string (store path, log line, error message) accepted, in bytes. */
  readonly maxStringBytes: number;
  /** Largest list accepted, in entries. */
  readonly maxListLength: number;
}

/** Thrown (one shared instance: no stack captured per throw) when a read needs bytes that have not arrived. */
export class NeedMoreBytes extends Error {
  private constructor() {
    super('more bytes needed');
  }
  static readonly instance = new NeedMoreBytes();
}
export const NEED_MORE = NeedMoreBytes.instance;

const INITIAL_CAPACITY = 64 << 10;
/** A buffer grown past this for one big answer is given back once it is empty. */
const SHRINK_ABOVE = 1 << 20;
const TWO_32 = 0x1_0000_0000;

/**
 * Holds the received, not yet committed bytes contiguously (a chunk is copied in once) and decodes from them.
 * `context` fills the evidence of the errors it raises (socket, operation).
 */
export class FrameReader {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  /** First byte not committed: where a rewind goes back to. */
  private start = 0;
  /** Next byte to decode. */
  private pos = 0;
  /** End of the received bytes. */
  private end = 0;
  /** Received bytes needed (from `start`) before the last NEED_MORE's read can succeed. */
  private wanted = 0;

  private readonly limits: FrameLimits;
  private readonly context: () => Record<string, unknown>;

  constructor(limits: FrameLimits, context: () => Record<string, unknown>) {
    this.limits = limits;
    this.context = context;
  }

  /** Bytes received and not yet committed. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  /** True when the read that last threw NEED_MORE could now get its bytes: worth decoding again. */
  get ready(): boolean {
    return this.end - this.start >= this.wanted;
  }

  /** More bytes from the peer: the first `length` of `chunk` (all of it by default), copied. */
  push(chunk: Buffer, length = chunk.length): void {
    if (length === 0) return;
    if (this.end + length > this.buf.length) this.makeRoom(length);
    chunk.copy(this.buf, this.end, 0, length);
    this.end += length;
  }

  /** What was decoded since the last commit is consumed for good. */
  commit(): void {
    this.start = this.pos;
    this.wanted = 0;
    if (this.start === this.end) {
      this.start = this.pos = this.end = 0;
      if (this.buf.length > SHRINK_ABOVE) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    }
  }

  /** Back to the last commit (after NEED_MORE). */
  rewind(): void {
    this.pos = this.start;
  }

  /** Drops every byte held (the connection is gone). */
  clear(): void {
    this.buf = Buffer.alloc(0);
    this.start = this.pos = this.end = this.wanted = 0;
  }

  u64(field: string): number {
    this.need(8);
    const low = this.buf.readUInt32LE(this.pos);
    const high = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    if (high > 0x1f_ffff) throw this.badFrame(field, `a number above 2^53 (${(BigInt(high) << 32n) | BigInt(low)})`);
    return high * TWO_32 + low;
  }

  bool(field: string): boolean {
    const value = this.u64(field);
    if (value !== 0 && value !== 1) throw this.badFrame(field, `a bool of ${value}`);
    return value === 1;
  }

  /** A length-prefixed, zero-padded UTF-8 string. */
  string(field: string): string {
    const length = this.length(field, this.limits.maxStringBytes, 'bytes');
    const at = this.padded(field, length);
    return this.buf.toString('utf8', at, at + length);
  }

  /** Skips a length-prefixed, zero-padded string (checked as string() does). */
  skipString(field: string): void {
    this.padded(field, this.length(field, this.limits.maxStringBytes, 'bytes'));
  }

  /** A count, then that many strings. For small lists: a long one is better read with listLength() and commits. */
  strings(field: string): string[] {
    const count = this.listLength(field);
    const values: string[] = [];
    for (let i = 0; i < count; i++) values.push(this.string(field));
    return values;
  }

  /** A list's entry count, refused above maxListLength. */
  listLength(field: string): number {
    return this.length(field, this.limits.maxListLength, 'entries');
  }

  /** A length prefix, refused above `max` before anything of that size exists or is waited for. */
  private length(field: string, max: number, unit: string): number {
    this.need(8);
    const low = this.buf.readUInt32LE(this.pos);
    const high = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    if (high !== 0 || low > max) {
      const value = (BigInt(high) << 32n) | BigInt(low);
      throw new DaemonError('DAEMON_FRAME_TOO_LARGE', `nix-daemon sent a ${field} of ${value} ${unit}, above the limit of ${max}`, {
        evidence: { ...this.context(), field, length: value.toString(), limit: max },
        hint: 'The peer is not a sane nix-daemon, or the limit is too low for this store: raise maxStringBytes/maxListLength.',
      });
    }
    return low;
  }

  /** Consumes `length` bytes and their padding (which must be zeros); returns where the bytes start. */
  private padded(field: string, length: number): number {
    const total = length + paddingOf(length);
    this.need(total);
    const at = this.pos;
    for (let i = at + length; i < at + total; i++) {
      if (this.buf[i] !== 0) throw this.badFrame(field, 'non-zero padding after a string');
    }
    this.pos += total;
    return at;
  }

  private need(bytes: number): void {
    if (this.end - this.pos >= bytes) return;
    this.wanted = this.pos - this.start + bytes;
    throw NEED_MORE;
  }

  /** Room for `incoming` more bytes: the uncommitted ones moved to the front, in a bigger buffer if need be. */
  private makeRoom(incoming: number): void {
    const kept = this.end - this.start;
    const needed = kept + incoming;
    const target = needed <= this.buf.length ? this.buf : Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2));
    this.buf.copy(target, 0, this.start, this.end);
    this.buf = target;
    this.pos -= this.start;
    this.start = 0;
    this.end = kept;
  }

  private badFrame(field: string, what: string): DaemonError {
    return new DaemonError('DAEMON_BAD_FRAME', `nix-daemon sent ${what} in ${field}`, {
      evidence: { ...this.context(), field },
      hint: 'The peer does not speak the nix-daemon worker protocol; check that the socket is a nix-daemon.',
    });
  }
}
