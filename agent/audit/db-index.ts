/** Streams a Nix DB's ValidPaths into a compact index: packed keys, row ids, and (on request) names, narHashes, sizes. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { NixDb } from '../store/nix-db.ts';
import { parseNarHash } from '../store/nar-hash-string.ts';
import { KeyTable } from './key-table.ts';
import { baseNameIn, packStoreKey, STORE_KEY_BYTES, unpackHashPart } from './store-key.ts';
import { StringPack } from './string-pack.ts';

/** A ValidPaths row the index could not take: its path is not a store path under the DB's store dir, or its hash is unreadable. */
export interface SkippedRow {
  readonly id: number;
  readonly path: string;
  readonly reason: 'not-a-store-path' | 'bad-nar-hash';
  readonly narHash?: string;
}

/** How this DB's rows meet another index's rows (the "join"): how the lower DB meets the upper one. */
export interface JoinedRows {
  /** Per row of this index: the row's index in the joined index, or -1. */
  readonly joinIndex: Int32Array;
  /** Per row of the joined index: 1 when this DB registers it too. */
  readonly present: Uint8Array;
  /** Joined rows whose narHash in this DB differs from the joined index's: this DB's narHash (32 bytes). */
  readonly differingHashes: ReadonlyMap<number, Buffer>;
}

/** One DB's registrations, in row (id) order; row `i` has key `keys.keyAt(i)` (KeyTable ids are row indices). */
export interface DbIndex {
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
  /** Record, for each row of `join` (read with hashes), whether this DB has it and whether its narHash differs. */
  readonly join?: DbIndex;
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
export async function readDbIndex(db: NixDb, options: ReadDbIndexOptions = {}): Promise<DbIndex> {
  options.signal?.throwIfAborted();
  // No count(*) first: on a million rows it costs a full scan; the arrays grow instead.
  const expected = options.expected ?? 4096;
  const keys = new KeyTable(expected);
  let rowIds = new Uint32Array(Math.max(expected, 16));
  const names = options.names === true ? new StringPack() : undefined;
  let narHashes = options.hashes === true ? Buffer.alloc(Math.max(expected, 16) * 32) : undefined;
  let narSizes = options.sizes === true ? new Float64Array(Math.max(expected, 16)) : undefined;
  const join = options.join;
  if (join !== undefined && join.narHashes === undefined) throw new Error('readDbIndex: the joined index must be read with hashes');
  const joined: { joinIndex: Int32Array; present: Uint8Array; differingHashes: Map<number, Buffer> } | undefined =
    join === undefined ? undefined : { joinIndex: new Int32Array(Math.max(expected, 16)).fill(-1), present: new Uint8Array(join.count), differingHashes: new Map() };
  const skipped: SkippedRow[] = [];
  let skippedCount = 0;
  const skip = (row: SkippedRow): void => {
    skippedCount++;
    if (skipped.length < SKIPPED_KEPT) skipped.push(row);
  };
  const scratch = Buffer.alloc(STORE_KEY_BYTES);
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
    if (baseName === undefined || !packStoreKey(baseName, scratch, 0)) {
      skip({ id: row.id, path: row.path, reason: 'not-a-store-path' });
      continue;
    }
    // The narHash is parsed only when kept: for a joined DB, only for rows the other DB has too.
    const other = join === undefined ? -1 : join.keys.find(scratch, 0);
    if ((narHashes !== undefined || other >= 0) && !readNarHash(row.narHash, hashScratch)) {
      skip({ id: row.id, path: row.path, reason: 'bad-nar-hash', narHash: row.narHash });
      continue;
    }
    if (count === rowIds.length) {
      rowIds = grow(rowIds, Uint32Array);
      if (narSizes !== undefined) narSizes = grow(narSizes, Float64Array);
      if (narHashes !== undefined) narHashes = Buffer.concat([narHashes, Buffer.alloc(narHashes.length)]);
      if (joined !== undefined) joined.joinIndex = growFilled(joined.joinIndex);
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
    if (joined !== undefined && other >= 0) {
      joined.joinIndex[count] = other;
      joined.present[other] = 1;
      if (hashScratch.compare(join!.narHashes!, other * 32, other * 32 + 32) !== 0) joined.differingHashes.set(other, Buffer.from(hashScratch));
    }
    count++;
  }
  options.onRows?.(seen);
  // Arrays grew by doubling: copy them to their exact size, so the index holds no slack.
  return {
    file: db.file,
    storeDir: db.storeDir,
    count,
    keys: keys.trimmed(),
    rowIds: rowIds.slice(0, count),
    names: names?.trimmed(),
    narHashes: narHashes === undefined ? undefined : Buffer.from(narHashes.subarray(0, count * 32)),
    narSizes: narSizes?.slice(0, count),
    joined: joined === undefined ? undefined : { joinIndex: joined.joinIndex.slice(0, count), present: joined.present, differingHashes: joined.differingHashes },
    skipped,
    skippedCount,
  };
}

/**
 * The full store path of a row: from kept names, else looked up by its hash part in `db` (an index seek, for the
 * few rows a report names). A row the DB no longer has (it changed meanwhile) gets `<storeDir>/<hashPart>-…`.
 */
export function pathResolver(index: DbIndex, db: Pick<NixDb, 'queryPathFromHashPart'> | undefined): (row: number) => string {
  const names = index.names;
  if (names !== undefined) return (row) => `${index.storeDir}/${names.get(row)}`;
  return (row) => {
    const hashPart = unpackHashPart(index.keys.keyAt(row));
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

function grow<T extends Uint32Array | Float64Array>(array: T, Kind: new (length: number) => T): T {
  const grown = new Kind(array.length * 2);
  grown.set(array);
  return grown;
}

function growFilled(array: Int32Array): Int32Array {
  const grown = new Int32Array(array.length * 2).fill(-1);
  grown.set(array);
  return grown;
}
