/** What verify hashes, where, and against which DB (pure): from DB indexes, DB rows and the upper layer's listing. */
import type { Finding } from '../findings/index.ts';
import { isWhiteout } from '../mount/index.ts';
import { type ValidPathRow, type StoreLayout, baseNameIn, STORE_PATH_KEY_BYTES, writeStorePathKey } from '../store/index.ts';
import { AuditError } from './audit-error.ts';
import { joinIndexes, pathResolver, type DbIndex } from './db-index.ts';
import { vanished, type Expectation, type VerifyItem } from './find-corrupt.ts';
import { kindAt, type LayerListing } from './layer-listing.ts';
import { narHashBytes } from './verify-paths.ts';

/** The objects to hash, how many and how big they are (for progress), and what planning alone already found. */
export interface VerifyPlan {
  /** Lazy for a scope (a million items are never all held); consume once. */
  readonly items: Iterable<VerifyItem>;
  readonly total: number;
  readonly totalBytes: number | undefined;
  /** `store.corrupt` (vanished): registrations a whiteout in the upper layer hides, so there is nothing to hash. */
  readonly findings: readonly Finding[];
}

/** The places a plan names: the logical store dir, the upper layer, the lower store dir on disk. */
export type VerifyPlaces = Pick<StoreLayout, 'storeDir' | 'upperLayer'> & { readonly lower: Pick<StoreLayout['lower'], 'realStoreDir'> };

/** A registration as far as verify needs it. */
export type NarRow = Pick<ValidPathRow, 'path' | 'narHash' | 'narSize'>;

export interface ScopeFacts {
  readonly places: VerifyPlaces;
  /** The upper layer's top level (kinds tell whiteouts apart). */
  readonly upperListing: LayerListing;
  /** The upper DB's index, with names, hashes and sizes; undefined when the scope leaves the upper DB out. */
  readonly upper: DbIndex | undefined;
  /** The lower DB's index, with sizes, not yet joined; undefined when the scope leaves the lower DB out. */
  readonly lower: DbIndex | undefined;
  /**
   * The lower DB's rows, read again as the items are pulled (names are not kept in the index: a million of them
   * would not fit); rows not in `lower` (registered after it was read) are left out.
   */
  readonly lowerRows: Iterable<NarRow>;
}

/**
 * Plans a scope's verification (pure). Each object is hashed where the merged view takes it from: an upper-DB path
 * in the upper layer when the upper layer has it, else in the lower layer; a lower-DB path in the lower layer. A
 * path both DBs register whose only copy is the lower one is one item checked against both. An upper-DB path a
 * whiteout hides is no item but a vanished finding. Items come lower DB first, each DB in row order.
 */
export function planScope(facts: ScopeFacts): VerifyPlan {
  const { places, upperListing, upper } = facts;
  const lower = facts.lower === undefined || upper === undefined ? facts.lower : joinIndexes(facts.lower, upper);
  const findings: Finding[] = [];
  // Per upper row: 0 to hash in the upper phase, 1 hashed by the lower phase (one lower copy, both DBs), 2 settled.
  const covered = new Uint8Array(upper?.count ?? 0);
  let total = 0;
  let totalBytes = 0;
  if (lower !== undefined) {
    total += lower.count;
    for (let row = 0; row < lower.count; row++) {
      totalBytes += lower.narSizes?.[row] ?? 0;
      const upperRow = lower.joined?.joinIndex[row] ?? -1;
      if (upperRow >= 0 && upperListing.keys.find(lower.keys.keyAt(row)) < 0) covered[upperRow] = 1;
    }
  }
  if (upper !== undefined) {
    const pathOf = pathResolver(upper, undefined);
    for (let row = 0; row < upper.count; row++) {
      if (covered[row] === 1) continue;
      const id = upperListing.keys.find(upper.keys.keyAt(row));
      if (id >= 0 && isWhiteout(kindAt(upperListing, id))) {
        findings.push(vanished(pathOf(row), `${places.upperLayer}/${upper.names?.get(row) ?? ''}`, 'upper', ['upper'], 'whiteout'));
        covered[row] = 2;
        continue;
      }
      total++;
      totalBytes += upper.narSizes?.[row] ?? 0;
    }
  }
  const items = (function* (): Generator<VerifyItem> {
    if (lower !== undefined) yield* lowerItems(places, facts.lowerRows, lower, upper, upperListing);
    if (upper !== undefined) yield* upperItems(places, upper, upperListing, covered);
  })();
  return { items, total, totalBytes, findings };
}

/** One path named on the command line, with what each DB registers for it. */
export interface PathRequest {
  /** Its base name (see userPathBaseName). */
  readonly baseName: string;
  readonly upper: NarRow | undefined;
  readonly lower: NarRow | undefined;
}

export interface PathFacts {
  readonly places: VerifyPlaces;
  readonly upperListing: LayerListing;
  /** The DB files, for expectations and evidence. */
  readonly upperDb: string;
  readonly lowerDb: string;
}

/**
 * Plans the verification of given paths (pure), in their order: the upper copy (when the upper layer has one)
 * against the upper DB, the lower copy against the lower DB, and a lower copy alone against both DBs. A path the
 * upper DB registers but a whiteout hides becomes a vanished finding. `requests` is read one at a time, so an
 * error is thrown for the first path that has one.
 * @throws AuditError AUDIT_UNKNOWN_PATH when a path is registered in neither DB.
 */
export function planPaths(requests: Iterable<PathRequest>, facts: PathFacts): VerifyPlan {
  const { places, upperListing, upperDb, lowerDb } = facts;
  const items: VerifyItem[] = [];
  const findings: Finding[] = [];
  const key = Buffer.alloc(STORE_PATH_KEY_BYTES);
  for (const { baseName, upper, lower } of requests) {
    const path = `${places.storeDir}/${baseName}`;
    if (upper === undefined && lower === undefined) {
      throw new AuditError('AUDIT_UNKNOWN_PATH', `${path} is registered in neither the upper nor the lower DB`, {
        evidence: { path, upperDb, lowerDb },
        hint: 'nothing to verify: check the path (nix-store -q --hash PATH)',
      });
    }
    const id = writeStorePathKey(baseName, key, 0) ? upperListing.keys.find(key) : -1;
    const upperFile = `${places.upperLayer}/${baseName}`;
    const lowerFile = `${places.lower.realStoreDir}/${baseName}`;
    const fromUpper = expectationOf('upper', upper, upperDb);
    const fromLower = expectationOf('lower', lower, lowerDb);
    if (id >= 0 && !isWhiteout(kindAt(upperListing, id))) {
      if (upper !== undefined) items.push({ path, file: upperFile, layer: 'upper', expected: fromUpper });
      if (lower !== undefined) items.push({ path, file: lowerFile, layer: 'lower', expected: fromLower });
    } else if (id >= 0) {
      if (upper !== undefined) findings.push(vanished(path, upperFile, 'upper', ['upper'], 'whiteout'));
      if (lower !== undefined) items.push({ path, file: lowerFile, layer: 'lower', expected: fromLower });
    } else {
      items.push({ path, file: lowerFile, layer: 'lower', expected: [...fromUpper, ...fromLower] });
    }
  }
  return { items, total: items.length, totalBytes: items.reduce((sum, item) => sum + (item.expected[0]?.narSize ?? 0), 0), findings };
}

/** Upper-DB rows not covered by the lower phase, each hashed in the layer the merged view takes it from. */
function* upperItems(places: VerifyPlaces, upper: DbIndex, listing: LayerListing, covered: Uint8Array): Generator<VerifyItem> {
  for (let row = 0; row < upper.count; row++) {
    if (covered[row] !== 0) continue;
    const baseName = upper.names?.get(row) ?? '';
    const inUpper = listing.keys.find(upper.keys.keyAt(row)) >= 0;
    yield {
      path: `${upper.storeDir}/${baseName}`,
      file: `${inUpper ? places.upperLayer : places.lower.realStoreDir}/${baseName}`,
      layer: inUpper ? 'upper' : 'lower',
      expected: [upperExpectation(upper, row)],
    };
  }
}

/** Every lower-DB row still in the index, hashed in the lower layer; against the upper DB too when it is the only copy. */
function* lowerItems(places: VerifyPlaces, rows: Iterable<NarRow>, lower: DbIndex, upper: DbIndex | undefined, listing: LayerListing): Generator<VerifyItem> {
  const scratch = Buffer.alloc(STORE_PATH_KEY_BYTES);
  for (const row of rows) {
    const baseName = baseNameIn(lower.storeDir, row.path);
    if (baseName === undefined || !writeStorePathKey(baseName, scratch, 0)) continue;
    const lowerRow = lower.keys.find(scratch);
    if (lowerRow < 0) continue; // registered after the index was read
    const expected = expectationOf('lower', row, lower.file);
    const upperRow = lower.joined?.joinIndex[lowerRow] ?? -1;
    if (upper !== undefined && upperRow >= 0 && listing.keys.find(scratch) < 0) expected.push(upperExpectation(upper, upperRow));
    yield { path: row.path, file: `${places.lower.realStoreDir}/${baseName}`, layer: 'lower', expected };
  }
}

function upperExpectation(upper: DbIndex, row: number): Expectation {
  const hashes = upper.narHashes!;
  return { db: 'upper', dbFile: upper.file, narHash: Buffer.from(hashes.subarray(row * 32, row * 32 + 32)), narSize: upper.narSizes?.[row] ?? 0 };
}

/** What `row` makes `db` expect: nothing when the DB has no row, or a narHash that is none of Nix's forms. */
function expectationOf(db: 'upper' | 'lower', row: NarRow | undefined, dbFile: string): Expectation[] {
  const hash = row === undefined ? undefined : narHashBytes(row.narHash);
  return row === undefined || hash === undefined ? [] : [{ db, dbFile, narHash: hash, narSize: row.narSize }];
}
