/** A compact, sorted set of store path names: 24-byte keys in one buffer, name parts in another (≈45 MB per million). */
import { STORE_PATH_KEY_BYTES, compareStorePathKeys, hashPartOfKey, writeStorePathKey, STORE_PATH_HASH_LENGTH } from '../store/index.ts';
import { sortKeyOrder } from './sort-keys.ts';

const NEWLINE = 0x0a;
/** Where the name part starts in a base name: after the hash part and its dash. */
const NAME_START = STORE_PATH_HASH_LENGTH + 1;

/**
 * An immutable set of store path base names (`<hash>-<name>`), sorted by key (see writeStorePathKey), without
 * duplicates. Memory: 24 bytes of key plus the name part (after the dash) and a separator per entry, plus 4 bytes
 * of offset once names are read; a million names cost ≈45 MB instead of ≈85 MB of heap for a Set of strings.
 * Hash parts are not stored as text: they are re-encoded from the key.
 */
export class EntrySet {
  /** Number of entries. */
  readonly count: number;
  /** `count` keys of STORE_PATH_KEY_BYTES, strictly ascending. */
  readonly keys: Uint8Array;
  /** Name parts, each followed by `\n`: in key order when `#starts` was not given, else anywhere `#starts` says. */
  readonly #names: Uint8Array;
  /** Offset in `#names` of each entry's name part, by key order; computed on first use when names are in key order. */
  #starts: Uint32Array | undefined;
  readonly #scratch = new Uint8Array(STORE_PATH_KEY_BYTES);

  /**
   * Wraps `keys` (strictly ascending, `count` keys) and `names`. Without `starts`, `names` holds the name parts in
   * key order, each followed by `\n` (the baseline file's layout). Callers build sets with EntrySetBuilder,
   * EntrySet.fromNames or the baseline file decoder, which uphold these rules.
   */
  constructor(keys: Uint8Array, count: number, names: Uint8Array, starts?: Uint32Array) {
    this.keys = keys;
    this.count = count;
    this.#names = names;
    this.#starts = starts;
  }

  /** The empty set. */
  static empty(): EntrySet {
    return new EntrySet(new Uint8Array(0), 0, new Uint8Array(0));
  }

  /** The set of the valid store path names among `names` (invalid ones are skipped). */
  static fromNames(names: Iterable<string>): EntrySet {
    const builder = new EntrySetBuilder();
    for (const name of names) builder.add(name);
    return builder.finish();
  }

  /** True when `baseName` is in the set. */
  has(baseName: string): boolean {
    return this.indexOf(baseName) >= 0;
  }

  /** The position of `baseName` in key order, or -1 (also for invalid names). Binary search: ~20 key compares per million. */
  indexOf(baseName: string): number {
    if (!writeStorePathKey(baseName, this.#scratch, 0)) return -1;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareStorePathKeys(this.keys, mid * STORE_PATH_KEY_BYTES, this.#scratch, 0);
      if (c === 0) return this.#namePartEquals(mid, baseName) ? mid : -1;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The base name of the entry at position `i` in key order. */
  nameAt(i: number): string {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`entry ${i} is outside 0..${this.count - 1}`);
    const start = this.#startsOf()[i] as number;
    const end = this.#names.indexOf(NEWLINE, start);
    return `${hashPartOfKey(this.keys, i * STORE_PATH_KEY_BYTES)}-${Buffer.from(this.#names.buffer, this.#names.byteOffset + start, end - start).toString('latin1')}`;
  }

  /** Every base name, in key order. */
  *names(): Generator<string, void, undefined> {
    for (let i = 0; i < this.count; i++) yield this.nameAt(i);
  }

  /**
   * The name parts in key order, each followed by `\n` (the baseline file's names section), as chunks of about
   * `chunkBytes`: one view when they are stored in key order already, else gathered chunk by chunk, so writing
   * a million names never needs a second full copy.
   */
  *namesSection(chunkBytes = 1 << 20): Generator<Uint8Array, void, undefined> {
    if (this.#starts === undefined) {
      yield this.#names;
      return;
    }
    let chunk = new Uint8Array(chunkBytes);
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      const part = this.#namePartBytes(i);
      if (at + part.length > chunk.length) {
        yield chunk.subarray(0, at);
        chunk = new Uint8Array(Math.max(chunkBytes, part.length));
        at = 0;
      }
      chunk.set(part, at);
      at += part.length;
    }
    if (at > 0) yield chunk.subarray(0, at);
  }

  /** Bytes of the names section. */
  get namesBytes(): number {
    if (this.#starts === undefined) return this.#names.length;
    let length = 0;
    for (let i = 0; i < this.count; i++) length += this.#namePartBytes(i).length;
    return length;
  }

  /**
   * This set with `removed` names taken out, then `added` names put in (so a name in both ends up present; names
   * already present or absent are no-ops; invalid names are skipped). One merge pass: O(count + changes), ≈0.1 s per million entries.
   */
  withChanges(added: Iterable<string>, removed: Iterable<string>): EntrySet {
    const drop = new Set<number>();
    for (const name of removed) {
      const i = this.indexOf(name);
      if (i >= 0) drop.add(i);
    }
    const extra = EntrySet.fromNames(
      Array.from(added).filter((name) => {
        const i = this.indexOf(name);
        return i < 0 || drop.has(i);
      }),
    );
    if (drop.size === 0 && extra.count === 0) return this;
    const count = this.count - drop.size + extra.count;
    const keys = new Uint8Array(count * STORE_PATH_KEY_BYTES);
    const parts: Uint8Array[] = [];
    let out = 0;
    const take = (set: EntrySet, i: number): void => {
      keys.set(set.keys.subarray(i * STORE_PATH_KEY_BYTES, (i + 1) * STORE_PATH_KEY_BYTES), out * STORE_PATH_KEY_BYTES);
      parts.push(set.#namePartBytes(i));
      out++;
    };
    let a = 0;
    let b = 0;
    while (a < this.count || b < extra.count) {
      if (a < this.count && drop.has(a)) {
        a++;
        continue;
      }
      if (b >= extra.count || (a < this.count && compareStorePathKeys(this.keys, a * STORE_PATH_KEY_BYTES, extra.keys, b * STORE_PATH_KEY_BYTES) < 0))
        take(this, a++);
      else take(extra, b++);
    }
    return new EntrySet(keys, count, Buffer.concat(parts));
  }

  /** True when entry `i`'s name part is `baseName`'s (the hash parts are known equal), without making a string. */
  #namePartEquals(i: number, baseName: string): boolean {
    const start = this.#startsOf()[i] as number;
    const length = baseName.length - NAME_START;
    if (this.#names[start + length] !== NEWLINE) return false;
    for (let k = 0; k < length; k++) if (this.#names[start + k] !== baseName.charCodeAt(NAME_START + k)) return false;
    return true;
  }

  /** The name part of entry `i` with its `\n`, as a view. */
  #namePartBytes(i: number): Uint8Array {
    const start = this.#startsOf()[i] as number;
    return this.#names.subarray(start, this.#names.indexOf(NEWLINE, start) + 1);
  }

  #startsOf(): Uint32Array {
    if (this.#starts === undefined) {
      const starts = new Uint32Array(this.count);
      let at = 0;
      for (let i = 0; i < this.count; i++) {
        starts[i] = at;
        const end = this.#names.indexOf(NEWLINE, at);
        if (end < 0) throw new RangeError(`names section holds fewer than ${this.count} names`);
        at = end + 1;
      }
      this.#starts = starts;
    }
    return this.#starts;
  }
}

/**
 * Collects store path names one by one (a directory listing) into growable buffers, then sorts them once, in place,
 * into an EntrySet: at a million names the peak is ≈45 MB (keys, names, offsets and the sort order).
 */
export class EntrySetBuilder {
  #keys: Uint8Array;
  #names: Uint8Array;
  #starts: Uint32Array;
  #count = 0;
  #namesLength = 0;

  /**
   * `expectedCount` and `expectedNameBytes` (e.g. the previous baseline's count and names section size) size the
   * buffers once; without them they start small and double.
   */
  constructor(expectedCount = 1024, expectedNameBytes?: number) {
    const capacity = Math.max(16, Math.ceil(expectedCount * 1.02) + 64);
    this.#keys = new Uint8Array(capacity * STORE_PATH_KEY_BYTES);
    this.#starts = new Uint32Array(capacity);
    this.#names = new Uint8Array(expectedNameBytes === undefined ? capacity * 16 : Math.ceil(expectedNameBytes * 1.02) + 4096);
  }

  /** Names added so far (valid ones, duplicates included). */
  get count(): number {
    return this.#count;
  }

  /** Adds `baseName` and returns true, or returns false when it is not a valid store path name. */
  add(baseName: string): boolean {
    if (this.#count === this.#starts.length) {
      const grown = this.#starts.length * 2;
      this.#keys = grow(this.#keys, grown * STORE_PATH_KEY_BYTES);
      this.#starts = growU32(this.#starts, grown);
    }
    if (!writeStorePathKey(baseName, this.#keys, this.#count * STORE_PATH_KEY_BYTES)) return false;
    const partLength = baseName.length - NAME_START + 1;
    if (this.#namesLength + partLength > this.#names.length) this.#names = grow(this.#names, Math.max(this.#names.length * 2, this.#namesLength + partLength));
    this.#starts[this.#count] = this.#namesLength;
    for (let i = NAME_START; i < baseName.length; i++) this.#names[this.#namesLength++] = baseName.charCodeAt(i);
    this.#names[this.#namesLength++] = NEWLINE;
    this.#count++;
    return true;
  }

  /** Sorts what was added into an EntrySet (duplicates dropped). The builder must not be used afterwards. */
  finish(): EntrySet {
    const count = this.#count;
    const keys = this.#keys;
    const starts = this.#starts;
    const order = sortKeyOrder(keys, count);
    // Apply the permutation in place, cycle by cycle (order[j] = j marks j done), so no second key buffer is needed.
    const record = new Uint8Array(STORE_PATH_KEY_BYTES);
    for (let i = 0; i < count; i++) {
      if (order[i] === i) continue;
      record.set(keys.subarray(i * STORE_PATH_KEY_BYTES, (i + 1) * STORE_PATH_KEY_BYTES));
      const start = starts[i] as number;
      let j = i;
      for (;;) {
        const k = order[j] as number;
        order[j] = j;
        if (k === i) {
          keys.set(record, j * STORE_PATH_KEY_BYTES);
          starts[j] = start;
          break;
        }
        keys.copyWithin(j * STORE_PATH_KEY_BYTES, k * STORE_PATH_KEY_BYTES, (k + 1) * STORE_PATH_KEY_BYTES);
        starts[j] = starts[k] as number;
        j = k;
      }
    }
    let unique = 0;
    for (let i = 0; i < count; i++) {
      if (unique > 0 && compareStorePathKeys(keys, (unique - 1) * STORE_PATH_KEY_BYTES, keys, i * STORE_PATH_KEY_BYTES) === 0) continue;
      if (unique !== i) {
        keys.copyWithin(unique * STORE_PATH_KEY_BYTES, i * STORE_PATH_KEY_BYTES, (i + 1) * STORE_PATH_KEY_BYTES);
        starts[unique] = starts[i] as number;
      }
      unique++;
    }
    const names = this.#names.length > this.#namesLength * 1.25 + 65_536 ? this.#names.slice(0, this.#namesLength) : this.#names.subarray(0, this.#namesLength);
    this.#keys = new Uint8Array(0);
    this.#starts = new Uint32Array(0);
    this.#names = new Uint8Array(0);
    this.#count = 0;
    const fit = unique * 1.25 + 1024 < starts.length;
    return new EntrySet(
      fit ? keys.slice(0, unique * STORE_PATH_KEY_BYTES) : keys.subarray(0, unique * STORE_PATH_KEY_BYTES),
      unique,
      names,
      fit ? starts.slice(0, unique) : starts.subarray(0, unique),
    );
  }
}

function grow(bytes: Uint8Array, size: number): Uint8Array {
  const grown = new Uint8Array(size);
  grown.set(bytes);
  return grown;
}

function growU32(values: Uint32Array, size: number): Uint32Array {
  const grown = new Uint32Array(size);
  grown.set(values);
  return grown;
}
