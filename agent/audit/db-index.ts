/** Streams a Nix DB's ValidPaths into a compact index: packed keys, row ids, and (on request) names, narHashes, sizes. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type LowerMetadata, parseNarHash, baseNameIn, STORE_PATH_KEY_BYTES, hashPartOfKey, writeStorePathKey } from '../store/index.ts';
import { KeyTable } from './key-table.ts';
import { StringPack } from './string-pack.ts';

/** A ValidPaths row the index could not take: its path is not a store path under the DB's store dir, or its hash is unreadable. */
export interface SkippedRow {
  readonly id: number;
  readonly path: string;
  readonly reason: 'not-a-store-path' | 'bad-nar-hash';
  readonly narHash?: string;
}

/** How the lower DB's rows meet the upper DB's (see joinIndexes). */
export interface JoinedRows {
  /** Per row of this index: the row's index in the joined index, or -1. */
  readonly joinIndex: Int32Array;
  /** Per row of the joined index: 1 when this DB registers it too. */
  readonly present: Uint8Array;
  /** Joined rows (of the joined index) whose narHash differs between the two DBs. */
  readonly differing: ReadonlySet<number>;
}

/** One DB's registrations, in row (id) order; row `i` has key `keys.keyAt(i)` (KeyTable ids are row indices). */
export interface DbIndex {
  /** Where the rows were read from: the DB file, or the lower store's daemon (LowerMetadata.source). */
  readonly file: string;
  readonly storeDir: string;
  readonly count: number;
  readonly keys: KeyTable;
  /** ValidPaths.id per row, ascending. */
  readonly rowIds: Uint32Array;
  /** Base names (`<hash>-<name>`) per row, when asked for. */
  readonly names: StringPack | undefined;
  /** narHash per row (32 bytes each), when asked for. */
  readonly narHashes: Buffer | undefined;
  /** narSize per row, when asked for. */
  readonly narSizes: Float64Array | undefined;
  /** The first 8 bytes of each row's narHash (two little-endian u32 per row), when asked for: enough to tell hashes apart. */
  readonly narFingerprints: Uint32Array | undefined;
  readonly joined: JoinedRows | undefined;
  /** At most SKIPPED_KEPT rows left out, and how many there were. */
  readonly skipped: readonly SkippedRow[];
  readonly skippedCount: number;
}

export interface ReadDbIndexOptions {
  /** Keep base names (for reports about these rows). */
  readonly names?: boolean;
  /** Keep narHash per row. */
  readonly hashes?: boolean;
  /** Keep narSize per row. */
  readonly sizes?: boolean;
  /** Keep 8 bytes of each narHash (see DbIndex.narFingerprints): a quarter of the memory of `hashes`. */
  readonly fingerprints?: boolean;
  /** Rows expected, to size the arrays (they grow past it). */
  readonly expected?: number;
  readonly signal?: AbortSignal;
  /** Rows read so far; called every few ten thousand rows. */
  readonly onRows?: (rows: number) => void;
}

export const SKIPPED_KEPT = 100;
/** Rows between event-loop yields: the loop must turn for Ctrl-C to be seen. */
const YIELD_EVERY = 16_384;

/**
 * Reads every ValidPaths row of `db` once, in one read transaction, keeping only packed data: never the rows
 * themselves. Rows whose path is not directly under the DB's store dir with a valid name are skipped (listed).
 * Rejects with `signal.reason` when aborted; NixDbError from the reader passes through.
 */
export async function readDbIndex(db: LowerMetadata, options: ReadDbIndexOptions = {}): Promise<DbIndex> {
  options.signal?.throwIfAborted();
  // Callers that know the row count pass it, so the arrays need neither growing nor trimming.
  const expected = options.expected ?? 4096;
  const keys = new KeyTable(expected);
  let rowIds = new Uint32Array(Math.max(expected, 16));
  const names = options.names === true ? new StringPack() : undefined;
  let narHashes = options.hashes === true ? Buffer.alloc(Math.max(expected, 16) * 32) : undefined;
  let narSizes = options.sizes === true ? new Float64Array(Math.max(expected, 16)) : undefined;
  let fingerprints = options.fingerprints === true ? new Uint32Array(Math.max(expected, 16) * 2) : undefined;
  const skipped: SkippedRow[] = [];
  let skippedCount = 0;
  const skip = (row: SkippedRow): void => {
    skippedCount++;
    if (skipped.length < SKIPPED_KEPT) skipped.push(row);
  };
  const scratch = Buffer.alloc(STORE_PATH_KEY_BYTES);
  const hashScratch = Buffer.alloc(32);
  let count = 0;
  let seen = 0;
  for (const row of db.iterateValidPaths()) {
    if (++seen % YIELD_EVERY === 0) {
      options.onRows?.(seen);
      await yieldToEventLoop();
      options.signal?.throwIfAborted();
    }
    const baseName = baseNameIn(db.storeDir, row.path);
    if (baseName === undefined || !writeStorePathKey(baseName, scratch, 0)) {
      skip({ id: row.id, path: row.path, reason: 'not-a-store-path' });
      continue;
    }
    // The narHash is parsed only when (part of it is) kept.
    if ((narHashes !== undefined || fingerprints !== undefined) && !readNarHash(row.narHash, hashScratch)) {
      skip({ id: row.id, path: row.path, reason: 'bad-nar-hash', narHash: row.narHash });
      continue;
    }
    if (count === rowIds.length) {
      rowIds = grow(rowIds, Uint32Array);
      if (narSizes !== undefined) narSizes = grow(narSizes, Float64Array);
      if (narHashes !== undefined) narHashes = Buffer.concat([narHashes, Buffer.alloc(narHashes.length)]);
      if (fingerprints !== undefined) fingerprints = grow(fingerprints, Uint32Array);
    }
    const index = keys.add(scratch, 0);
    if (index !== count) {
      // Same hash part and name registered twice: impossible in a Nix DB (path is unique); keep the first.
      skip({ id: row.id, path: row.path, reason: 'not-a-store-path' });
      continue;
    }
    rowIds[count] = row.id;
    names?.push(baseName);
    if (narHashes !== undefined) hashScratch.copy(narHashes, count * 32);
    if (narSizes !== undefined) narSizes[count] = row.narSize;
    if (fingerprints !== undefined) {
      fingerprints[count * 2] = hashScratch.readUInt32LE(0);
      fingerprints[count * 2 + 1] = hashScratch.readUInt32LE(4);
    }
    count++;
  }
  options.onRows?.(seen);
  // Arrays grew by doubling: copy them to their exact size, so the index holds no slack.
  return {
    file: db.source,
    storeDir: db.storeDir,
    count,
    keys: keys.trimmed(),
    rowIds: exact(rowIds, count),
    names: names?.trimmed(),
    narHashes: narHashes === undefined || narHashes.length === count * 32 ? narHashes : Buffer.from(narHashes.subarray(0, count * 32)),
    narSizes: narSizes === undefined ? undefined : exact(narSizes, count),
    narFingerprints: fingerprints === undefined ? undefined : exact(fingerprints, count * 2),
    joined: undefined,
    skipped,
    skippedCount,
  };
}

/**
 * Joins the lower index to the upper one (pure): which lower row registers which upper row's path, and where their
 * narHashes differ (compared on 8 bytes: `lower` needs fingerprints or hashes, `upper` hashes). Returns `lower`
 * with `joined` set.
 */
export function joinIndexes(lower: DbIndex, upper: DbIndex): DbIndex {
  const joinIndex = new Int32Array(lower.count).fill(-1);
  const present = new Uint8Array(upper.count);
  const differing = new Set<number>();
  const upperHashes = upper.narHashes;
  for (let row = 0; row < lower.count; row++) {
    const other = upper.keys.find(lower.keys.keyAt(row));
    if (other < 0) continue;
    joinIndex[row] = other;
    present[other] = 1;
    if (upperHashes === undefined) continue;
    const [a, b] = fingerprintOf(lower, row);
    if (a !== upperHashes.readUInt32LE(other * 32) || b !== upperHashes.readUInt32LE(other * 32 + 4)) differing.add(other);
  }
  return { ...lower, joined: { joinIndex, present, differing } };
}

/** The 8-byte fingerprint of a row's narHash as two u32, from fingerprints or full hashes; [0, 0] when neither was kept. */
function fingerprintOf(index: DbIndex, row: number): [number, number] {
  if (index.narFingerprints !== undefined) return [index.narFingerprints[row * 2] as number, index.narFingerprints[row * 2 + 1] as number];
  if (index.narHashes !== undefined) return [index.narHashes.readUInt32LE(row * 32), index.narHashes.readUInt32LE(row * 32 + 4)];
  return [0, 0];
}

/**
 * The full store path of a row: from kept names, else looked up by its hash part in `db` (an index seek, for the
 * few rows a report names). A row the DB no longer has (it changed meanwhile) gets `<storeDir>/<hashPart>-…`.
 */
export function pathResolver(index: DbIndex, db: Pick<LowerMetadata, 'queryPathFromHashPart'> | undefined): (row: number) => string {
  const names = index.names;
  if (names !== undefined) return (row) => `${index.storeDir}/${names.get(row)}`;
  return (row) => {
    const hashPart = hashPartOfKey(index.keys.keyAt(row));
    return db?.queryPathFromHashPart(hashPart) ?? `${index.storeDir}/${hashPart}-…`;
  };
}

/** Writes the 32 bytes of a narHash in any of Nix's forms into `out`; false when it is not one. Fast path for the DB's `sha256:<hex>`. */
function readNarHash(value: string, out: Buffer): boolean {
  if (value.length === 71 && value.startsWith('sha256:') && out.write(value.slice(7), 0, 32, 'hex') === 32) return true;
  try {
    parseNarHash(value).copy(out, 0);
    return true;
  } catch {
    return false;
  }
}

/** `array` when it has exactly `length` elements, else a copy of its first `length`. */
function exact<T extends Uint32Array | Float64Array>(array: T, length: number): T {
  return (array.length === length ? array : array.slice(0, length)) as T;
}

function grow<T extends Uint32Array | Float64Array>(array: T, Kind: new (length: number) => T): T {
  const grown = new Kind(array.length * 2);
  grown.set(array);
  return grown;
}
