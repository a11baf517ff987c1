/** Encoding of the worker protocol's values (pure): u64 little-endian, byte strings padded to 8, string lists. */

/** Bytes of padding after a string of `length` bytes. */
export function paddingOf(length: number): number {
  return (8 - (length % 8)) % 8;
}

const TWO_32 = 0x1_0000_0000;

/**
 * Builds requests in one growing buffer, each value written in place; toBuffer() copies out what was written, and
 * take() does so and starts again: one writer serves many requests, one allocation per batch of them.
 */
export class FrameWriter {
  private buf = Buffer.allocUnsafe(256);
  private size = 0;

  /** Bytes written since the last take(). */
  get length(): number {
    return this.size;
  }

  /** A non-negative safe integer, as a u64 little-endian. */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64: ${value}`);
    this.room(8);
    this.buf.writeUInt32LE(value % TWO_32, this.size);
    this.buf.writeUInt32LE(Math.floor(value / TWO_32), this.size + 4);
    this.size += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.u64(value ? 1 : 0);
  }

  /** Its UTF-8 bytes: length, bytes, zero padding to a multiple of 8. */
  string(value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    const padding = paddingOf(length);
    this.u64(length);
    this.room(length + padding);
    this.buf.write(value, this.size, 'utf8');
    this.buf.fill(0, this.size + length, this.size + length + padding);
    this.size += length + padding;
    return this;
  }

  /** Count, then each string. */
  strings(values: readonly string[]): this {
    this.u64(values.length);
    for (const value of values) this.string(value);
    return this;
  }

  /** Bytes encoded elsewhere, as they are. */
  raw(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.buf.set(bytes, this.size);
    this.size += bytes.length;
    return this;
  }

  /** A copy of what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.size));
  }

  /** A copy of what was written; the writer is then empty. */
  take(): Buffer {
    const out = this.toBuffer();
    this.size = 0;
    return out;
  }

  private room(bytes: number): void {
    if (this.size + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.size + bytes, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.size);
    this.buf = grown;
  }
}
