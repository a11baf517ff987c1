/** A compact set of 24-byte store keys with dense integer ids: one Buffer of keys plus an open-addressing index. */
import { STORE_PATH_KEY_BYTES } from '../store/index.ts';

const EMPTY = -1;

/** The arrays behind a KeyTable, as structured clone carries them between threads. */
export interface KeyTableData {
  readonly keys: Uint8Array;
  readonly slots: Int32Array;
  readonly size: number;
}
const INITIAL_CAPACITY = 1024;

/**
 * Keys are appended to one growing Buffer and get ids 0, 1, 2… in insertion order; an Int32Array of slots
 * (linear probing, load at most 1/2) maps a key to its id. 1,000,000 keys take about 32 MB, against several
 * hundred for a Map of path strings. Keys come from writeStorePathKey, whose first bytes are uniformly spread
 * (hash parts are hash output), so the first four bytes serve as the slot hash.
 */
export class KeyTable {
  #keys: Buffer;
  #slots: Int32Array;
  #mask: number;
  #size = 0;

  constructor(expected = INITIAL_CAPACITY) {
    const capacity = Math.max(INITIAL_CAPACITY, expected);
    // Own ArrayBuffer (not the shared pool), so it can be transferred.
    this.#keys = Buffer.from(new ArrayBuffer(capacity * STORE_PATH_KEY_BYTES));
    const slots = slotCountFor(capacity);
    this.#slots = new Int32Array(slots).fill(EMPTY);
    this.#mask = slots - 1;
  }

  /** Number of keys. */
  get size(): number {
    return this.#size;
  }

  /** Bytes held (keys and slots), for memory accounting. */
  get byteLength(): number {
    return this.#keys.byteLength + this.#slots.byteLength;
  }

  /** The id of the key at `source[offset…offset+24)`, or -1. */
  find(source: Uint8Array, offset = 0): number {
    const keys = this.#keys;
    for (let slot = hashAt(source, offset) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const id = this.#slots[slot] as number;
      if (id === EMPTY) return -1;
      if (equalAt(keys, id * STORE_PATH_KEY_BYTES, source, offset)) return id;
    }
  }

  /** Adds the key at `source[offset…)` if absent; returns its id (new ids count up from 0). */
  add(source: Uint8Array, offset = 0): number {
    const found = this.find(source, offset);
    if (found >= 0) return found;
    if ((this.#size + 1) * STORE_PATH_KEY_BYTES > this.#keys.byteLength) this.#growKeys();
    if ((this.#size + 1) * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    const id = this.#size++;
    const keys = this.#keys;
    const at = id * STORE_PATH_KEY_BYTES;
    for (let i = 0; i < STORE_PATH_KEY_BYTES; i++) keys[at + i] = source[offset + i] as number;
    this.#place(id);
    return id;
  }

  /** A table holding exactly its keys (and slots for them), without the slack of growth: a copy, or this table when it has little slack. */
  trimmed(): KeyTable {
    // Already exact (sized from a known count): no copy, so no moment holding two tables.
    if (this.#keys.byteLength - this.#size * STORE_PATH_KEY_BYTES <= this.#keys.byteLength / 8 && this.#slots.length === slotCountFor(this.#size)) return this;
    const table = new KeyTable(0);
    table.#keys = Buffer.from(new ArrayBuffer(Math.max(this.#size, 1) * STORE_PATH_KEY_BYTES));
    this.#keys.copy(table.#keys, 0, 0, this.#size * STORE_PATH_KEY_BYTES);
    table.#size = this.#size;
    table.#rehash(slotCountFor(this.#size));
    return table;
  }

  /** The table's arrays, to send to another thread (transfer `keys.buffer` and `slots.buffer`); the table is unusable after a transfer. */
  export(): KeyTableData {
    return { keys: this.#keys, slots: this.#slots, size: this.#size };
  }

  /** A table over arrays from `export()` (possibly from another thread), without rehashing. */
  static fromData(data: KeyTableData): KeyTable {
    const table = new KeyTable(0);
    table.#keys = Buffer.from(data.keys.buffer, data.keys.byteOffset, data.keys.byteLength);
    table.#slots = data.slots;
    table.#mask = data.slots.length - 1;
    table.#size = data.size;
    return table;
  }

  /** A view of key `id`'s 24 bytes (valid until the next `add`). */
  keyAt(id: number): Buffer {
    return this.#keys.subarray(id * STORE_PATH_KEY_BYTES, (id + 1) * STORE_PATH_KEY_BYTES);
  }

  #place(id: number): void {
    for (let slot = hashAt(this.#keys, id * STORE_PATH_KEY_BYTES) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      if (this.#slots[slot] === EMPTY) {
        this.#slots[slot] = id;
        return;
      }
    }
  }

  #growKeys(): void {
    const grown = Buffer.from(new ArrayBuffer(this.#keys.byteLength * 2));
    this.#keys.copy(grown, 0, 0, this.#size * STORE_PATH_KEY_BYTES);
    this.#keys = grown;
  }

  #rehash(slotCount: number): void {
    this.#slots = new Int32Array(slotCount).fill(EMPTY);
    this.#mask = slotCount - 1;
    for (let id = 0; id < this.#size; id++) this.#place(id);
  }
}

function slotCountFor(capacity: number): number {
  let slots = 2;
  while (slots < capacity * 2) slots *= 2;
  return slots;
}

function hashAt(bytes: Uint8Array, offset: number): number {
  // Mix in the name hash (bytes 20-23) so keys sharing a hash part still spread.
  const a = ((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
  return (a ^ (bytes[offset + 23] as number)) >>> 0;
}

function equalAt(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): boolean {
  for (let i = 0; i < STORE_PATH_KEY_BYTES; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}
