/** Encoding of the worker protocol's values (pure): u64 little-endian, byte strings padded to 8, string lists. */

/** Bytes of padding after a string of `length` bytes. */
export function paddingOf(length: number): number {
  return (8 - (length % 8)) % 8;
}

/** Builds one request: every value appended in order, encoded once at the end. */
export class FrameWriter {
  private readonly parts: Buffer[] = [];

  /** A non-negative safe integer, as a u64 little-endian. */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u64: ${value}`);
    const part = Buffer.alloc(8);
    part.writeBigUInt64LE(BigInt(value));
    this.parts.push(part);
    return this;
  }

  bool(value: boolean): this {
    return this.u64(value ? 1 : 0);
  }

  /** Its UTF-8 bytes: length, bytes, zero padding to a multiple of 8. */
  string(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.parts.push(bytes, Buffer.alloc(paddingOf(bytes.length)));
    return this;
  }

  /** Count, then each string. */
  strings(values: readonly string[]): this {
    this.u64(values.length);
    for (const value of values) this.string(value);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
