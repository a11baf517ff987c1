/**
 * Decoding of the worker protocol's values from a byte stream that arrives in pieces: u64s, padded strings and
 * string lists, each length prefix checked against a cap before anything is allocated.
 */
import { DaemonError } from './daemon-error.ts';
import { paddingOf } from './frame-encode.ts';

export interface FrameLimits {
  /** Largest string (store path, log line, error message) accepted, in bytes. */
  readonly maxStringBytes: number;
  /** Largest list accepted, in entries. */
  readonly maxListLength: number;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: (data: Buffer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Holds what the socket delivered and hands it out in exact sizes; a read waits until enough has arrived, or fails
 * with the error given to fail() (closed connection, timeout). Only one read is pending at a time: the protocol is
 * answers are read one at a time, in order. `context` fills the evidence of the errors it raises.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: Waiter | undefined;
  private failure: unknown;

  private readonly limits: FrameLimits;
  private readonly context: () => Record<string, unknown>;

  constructor(limits: FrameLimits, context: () => Record<string, unknown>) {
    this.limits = limits;
    this.context = context;
  }

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** More bytes from the peer. */
  push(chunk: Buffer): void {
    if (this.failure !== undefined || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const waiter = this.waiter;
    if (waiter !== undefined && this.buffered >= waiter.bytes) {
      this.waiter = undefined;
      waiter.resolve(this.take(waiter.bytes));
    }
  }

  /** No more bytes will come: the pending read and every later one reject with `error` (the first one given wins). */
  fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.chunks = [];
    this.buffered = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }

  /** Exactly `bytes` bytes. */
  read(bytes: number): Promise<Buffer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.buffered >= bytes) return Promise.resolve(this.take(bytes));
    if (this.waiter !== undefined) return Promise.reject(new Error('FrameReader: two reads pending at once'));
    return new Promise((resolve, reject) => {
      this.waiter = { bytes, resolve, reject };
    });
  }

  async u64(field: string): Promise<number> {
    const data = await this.read(8);
    const value = data.readBigUInt64LE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.badFrame(field, `a number above 2^53 (${value})`);
    return Number(value);
  }

  async bool(field: string): Promise<boolean> {
    const value = await this.u64(field);
    if (value !== 0 && value !== 1) throw this.badFrame(field, `a bool of ${value}`);
    return value === 1;
  }

  /** A length-prefixed, zero-padded byte string. */
  async bytes(field: string): Promise<Buffer> {
    const length = await this.length(field, this.limits.maxStringBytes, 'bytes');
    const data = await this.read(length + paddingOf(length));
    for (let i = length; i < data.length; i++) {
      if (data[i] !== 0) throw this.badFrame(field, 'non-zero padding after a string');
    }
    return data.subarray(0, length);
  }

  async string(field: string): Promise<string> {
    return (await this.bytes(field)).toString('utf8');
  }

  async strings(field: string): Promise<string[]> {
    const count = await this.length(field, this.limits.maxListLength, 'entries');
    const values: string[] = [];
    for (let i = 0; i < count; i++) values.push(await this.string(field));
    return values;
  }

  /** A length prefix, refused above `max` before anything of that size exists. */
  private async length(field: string, max: number, unit: string): Promise<number> {
    const data = await this.read(8);
    const value = data.readBigUInt64LE(0);
    if (value > BigInt(max)) {
      throw new DaemonError('DAEMON_FRAME_TOO_LARGE', `nix-daemon sent a ${field} of ${value} ${unit}, above the limit of ${max}`, {
        evidence: { ...this.context(), field, length: value.toString(), limit: max },
        hint: 'The peer is not a sane nix-daemon, or the limit is too low for this store: raise maxStringBytes/maxListLength.',
      });
    }
    return Number(value);
  }

  private badFrame(field: string, what: string): DaemonError {
    return new DaemonError('DAEMON_BAD_FRAME', `nix-daemon sent ${what} in ${field}`, {
      evidence: { ...this.context(), field },
      hint: 'The peer does not speak the nix-daemon worker protocol; check that the socket is a nix-daemon.',
    });
  }

  private take(bytes: number): Buffer {
    this.buffered -= bytes;
    if (this.chunks[0] !== undefined && this.chunks[0].length >= bytes) {
      const first = this.chunks[0];
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      return first.subarray(0, bytes);
    }
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, bytes - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
