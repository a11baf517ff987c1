/** Many short ASCII strings (store path base names) in one growing Buffer with offsets: a fraction of an array of strings. */

const INITIAL_BYTES = 64 * 1024;

/** The arrays behind a StringPack, as structured clone carries them between threads. */
export interface StringPackData {
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  readonly length: number;
}

/** Append-only list of latin1 strings; `get(i)` makes the string on demand (reports name few of many entries). */
export class StringPack {
  #bytes: Buffer = Buffer.from(new ArrayBuffer(INITIAL_BYTES));
  #ends: Uint32Array = new Uint32Array(1024);
  #length = 0;
  #used = 0;

  get length(): number {
    return this.#length;
  }

  /** Appends `value` (latin1: store path names are ASCII) and returns its index. */
  push(value: string): number {
    if (this.#used + value.length > this.#bytes.length) {
      const grown = Buffer.from(new ArrayBuffer(Math.max(this.#bytes.length * 2, this.#used + value.length)));
      this.#bytes.copy(grown, 0, 0, this.#used);
      this.#bytes = grown;
    }
    if (this.#length === this.#ends.length) {
      const grown = new Uint32Array(this.#ends.length * 2);
      grown.set(this.#ends);
      this.#ends = grown;
    }
    this.#used += this.#bytes.write(value, this.#used, 'latin1');
    this.#ends[this.#length] = this.#used;
    return this.#length++;
  }

  /** A copy holding exactly its strings: drops the slack of growth. */
  trimmed(): StringPack {
    const pack = new StringPack();
    pack.#bytes = Buffer.from(new ArrayBuffer(Math.max(this.#used, 1)));
    this.#bytes.copy(pack.#bytes, 0, 0, this.#used);
    pack.#ends = this.#ends.slice(0, Math.max(this.#length, 1));
    pack.#length = this.#length;
    pack.#used = this.#used;
    return pack;
  }

  /** The arrays, to send to another thread (transfer their buffers); the pack is unusable after a transfer. */
  export(): StringPackData {
    return { bytes: this.#bytes, ends: this.#ends, length: this.#length };
  }

  /** A pack over arrays from `export()`. */
  static fromData(data: StringPackData): StringPack {
    const pack = new StringPack();
    pack.#bytes = Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
    pack.#ends = data.ends;
    pack.#length = data.length;
    pack.#used = data.length === 0 ? 0 : (data.ends[data.length - 1] as number);
    return pack;
  }

  /** The string at `index`. @throws RangeError outside 0…length-1. */
  get(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.#length) throw new RangeError(`StringPack index ${index} is outside 0…${this.#length - 1}`);
    const start = index === 0 ? 0 : (this.#ends[index - 1] as number);
    return this.#bytes.toString('latin1', start, this.#ends[index] as number);
  }
}
