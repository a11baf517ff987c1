/** What verify hashes, where, and against which DB (pure): from DB indexes, DB rows and the upper layer's listing. */
import type { Finding } from '../findings/index.ts';
import { isWhiteout } from '../mount/index.ts';
import { type ValidPathRow, type StoreLayout, baseNameIn, STORE_PATH_KEY_BYTES, writeStorePathKey } from '../store/index.ts';
import { joinIndexes, type DbIndex } from './db-index.ts';
import type { Expectation, VerifyItem } from './find-corrupt.ts';
import { maskedByWhiteout } from './find-masked.ts';
import { kindAt, type LayerListing } from './layer-listing.ts';
import { narHashBytes } from './verify-paths.ts';

/** The objects to hash, how many and how big they are (for progress), and what planning alone already found. */
export interface VerifyPlan {
  /** Lazy for a scope (a million items are never all held); consume once. */
  readonly items: Iterable<VerifyItem>;
  readonly total: number;
  readonly totalBytes: number | undefined;
  /** `store.masked`: registered paths a whiteout in the upper layer hides, so there is nothing to hash. */
  readonly findings: readonly Finding[];
}

/** The places a plan names: the logical store dir, the upper layer, the lower store dir on disk. */
export type VerifyPlaces = Pick<StoreLayout, 'storeDir' | 'upperLayer'> & { readonly lower: Pick<StoreLayout['lower'], 'realStoreDir'> };

/** A registration as far as verify needs it. */
export type NarRow = Pick<ValidPathRow, 'path' | 'narHash' | 'narSize'>;

/** What each DB registers for one store path (looked up one path at a time). */
export interface Registrations {
  readonly upper: NarRow | undefined;
  readonly lower: NarRow | undefined;
}

export interface ScopeFacts {
  readonly places: VerifyPlaces;
  /** The upper layer's top level (kinds tell whiteouts apart), with names. */
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
  /** Both DBs' rows for the upper-listing ids idsToLookUp returned. */
  readonly registrations: ReadonlyMap<number, Registrations>;
  readonly dbFiles: { readonly upper: string; readonly lower: string };
}

/**
 * The upper-layer entries whose registrations planScope needs looked up in the DBs, as upper-listing ids (pure):
 * every whiteout (which DBs register the path it hides); with the upper index alone, the entries it lacks (copies
 * of lower-only paths, found in the lower DB); with the lower index alone, the entries it has (whether the upper DB
 * describes the upper copy instead). These are few in a store: copies in both layers, and whiteouts.
 */
export function idsToLookUp(listing: LayerListing, upper: DbIndex | undefined, lower: DbIndex | undefined): number[] {
  const ids: number[] = [];
  for (let id = 0; id < listing.keys.size; id++) {
    const key = listing.keys.keyAt(id);
    if (isWhiteout(kindAt(listing, id))) ids.push(id);
    else if (lower === undefined && upper !== undefined && upper.keys.find(key) < 0) ids.push(id);
    else if (upper === undefined && lower !== undefined && lower.keys.find(key) >= 0) ids.push(id);
  }
  return ids;
}

/**
 * Plans a scope's verification (pure). Every path is judged by the object the merged view serves for it: the
 * upper layer's (merged over the lower copy where OverlayFS merges, and the lower copy hashed on its own too, to tell
 * which copy matches) when the upper layer has one, else the lower layer's. The served object is judged against the
 * DB Nix's overlay store describes it by: the upper DB when it registers the path, else the lower DB; a lower copy
 * the merged view serves is judged against the lower DB too, and a lower copy under an upper one is judged against
 * the lower DB when the scope holds the lower DB. A path a whiteout hides is no item but a `store.masked` finding.
 * The scopes: the upper index alone covers every upper-DB path and every upper-layer copy of a lower-DB path (what
 * the overlay serves from its upper side); the lower index alone every lower-DB path; both, each path once. Items
 * come lower DB first, each DB in row order, then the copies of lower-only paths.
 */
export function planScope(facts: ScopeFacts): VerifyPlan {
  const { upperListing: listing, upper } = facts;
  const lower = facts.lower === undefined || upper === undefined ? facts.lower : joinIndexes(facts.lower, upper);
  const findings = maskedFindings(facts);
  const hiddenAt = (key: Uint8Array): boolean => {
    const id = listing.keys.find(key);
    return id >= 0 && isWhiteout(kindAt(listing, id));
  };
  let total = 0;
  let totalBytes = 0;
  if (lower !== undefined) {
    for (let row = 0; row < lower.count; row++) {
      if (hiddenAt(lower.keys.keyAt(row))) continue;
      total++;
      totalBytes += lower.narSizes?.[row] ?? 0;
    }
  }
  if (upper !== undefined) {
    for (let row = 0; row < upper.count; row++) {
      if (lower?.joined?.present[row] === 1 || hiddenAt(upper.keys.keyAt(row))) continue;
      total++;
      totalBytes += upper.narSizes?.[row] ?? 0;
    }
  }
  const copies = lower === undefined ? copiesOfLowerOnlyPaths(facts) : [];
  total += copies.length;
  for (const copy of copies) totalBytes += copy.expected[0]?.narSize ?? 0;
  const items = (function* (): Generator<VerifyItem> {
    if (lower !== undefined) yield* lowerItems(facts, lower, upper);
    if (upper !== undefined) yield* upperItems(facts, upper, lower);
    yield* copies;
  })();
  return { items, total, totalBytes, findings };
}

/** `store.masked` for each whiteout over a path a DB of the scope registers (without the upper index, the lower DB's only). */
function maskedFindings(facts: ScopeFacts): Finding[] {
  const { places, upperListing: listing, registrations } = facts;
  const findings: Finding[] = [];
  for (const [id, rows] of registrations) {
    const kind = kindAt(listing, id);
    if (!isWhiteout(kind)) continue;
    const inScope = facts.upper === undefined ? rows.lower !== undefined : rows.upper !== undefined || rows.lower !== undefined;
    if (!inScope) continue;
    const baseName = listing.names?.get(id) ?? '';
    findings.push(
      maskedByWhiteout({
        path: `${places.storeDir}/${baseName}`,
        upperPath: `${places.upperLayer}/${baseName}`,
        kind,
        registeredInLowerDb: rows.lower !== undefined,
        registeredInUpperDb: rows.upper !== undefined,
      }),
    );
  }
  return findings;
}

/** Every lower-DB row still in the index and not hidden, where the merged view takes it from. */
function* lowerItems(facts: ScopeFacts, lower: DbIndex, upper: DbIndex | undefined): Generator<VerifyItem> {
  const { places, upperListing: listing, registrations } = facts;
  const scratch = Buffer.alloc(STORE_PATH_KEY_BYTES);
  for (const row of facts.lowerRows) {
    const baseName = baseNameIn(lower.storeDir, row.path);
    if (baseName === undefined || !writeStorePathKey(baseName, scratch, 0)) continue;
    const lowerRow = lower.keys.find(scratch);
    if (lowerRow < 0) continue; // registered after the index was read
    const id = listing.keys.find(scratch);
    if (id >= 0 && isWhiteout(kindAt(listing, id))) continue;
    const fromLower = expectationOf('lower', row, lower.file);
    const upperRow = lower.joined?.joinIndex[lowerRow] ?? -1;
    const fromUpper = upper !== undefined && upperRow >= 0 ? [upperExpectation(upper, upperRow)] : [];
    const path = `${places.storeDir}/${baseName}`;
    if (id < 0) {
      yield { path, file: `${places.lower.realStoreDir}/${baseName}`, layer: 'lower', expected: [...fromLower, ...fromUpper] };
      continue;
    }
    // Without the upper index, an upper copy the upper DB registers is its to judge (the upper scope), not ours.
    const served = upper !== undefined ? (upperRow >= 0 ? fromUpper : fromLower) : registrations.get(id)?.upper !== undefined ? [] : fromLower;
    yield upperCopy(places, baseName, served, fromLower);
  }
}

/** Upper-DB rows the lower phase did not cover and no whiteout hides, where the merged view takes them from. */
function* upperItems(facts: ScopeFacts, upper: DbIndex, lower: DbIndex | undefined): Generator<VerifyItem> {
  const { places, upperListing: listing } = facts;
  for (let row = 0; row < upper.count; row++) {
    if (lower?.joined?.present[row] === 1) continue;
    const id = listing.keys.find(upper.keys.keyAt(row));
    if (id >= 0 && isWhiteout(kindAt(listing, id))) continue;
    const baseName = upper.names?.get(row) ?? '';
    const expected = [upperExpectation(upper, row)];
    if (id >= 0) yield upperCopy(places, baseName, expected, []);
    else yield { path: `${places.storeDir}/${baseName}`, file: `${places.lower.realStoreDir}/${baseName}`, layer: 'lower', expected };
  }
}

/** With the upper index alone: the upper layer's copies of paths only the lower DB registers, against the lower DB. */
function copiesOfLowerOnlyPaths(facts: ScopeFacts): VerifyItem[] {
  const { places, upperListing: listing, registrations } = facts;
  const items: VerifyItem[] = [];
  for (const [id, rows] of registrations) {
    if (isWhiteout(kindAt(listing, id)) || rows.upper !== undefined || rows.lower === undefined) continue;
    items.push(upperCopy(places, listing.names?.get(id) ?? '', expectationOf('lower', rows.lower, facts.dbFiles.lower), []));
  }
  return items;
}

/** An item served from the upper layer, with the lower copy under it hashed too. */
export function upperCopy(places: VerifyPlaces, baseName: string, expected: readonly Expectation[], lowerExpected: readonly Expectation[]): VerifyItem {
  return {
    path: `${places.storeDir}/${baseName}`,
    file: `${places.upperLayer}/${baseName}`,
    layer: 'upper',
    expected,
    lowerCopy: { file: `${places.lower.realStoreDir}/${baseName}`, expected: lowerExpected },
  };
}

function upperExpectation(upper: DbIndex, row: number): Expectation {
  const hashes = upper.narHashes!;
  return { db: 'upper', dbFile: upper.file, narHash: Buffer.from(hashes.subarray(row * 32, row * 32 + 32)), narSize: upper.narSizes?.[row] ?? 0 };
}

/** What `row` makes `db` expect: nothing when the DB has no row, or a narHash that is none of Nix's forms. */
export function expectationOf(db: 'upper' | 'lower', row: NarRow | undefined, dbFile: string): Expectation[] {
  const hash = row === undefined ? undefined : narHashBytes(row.narHash);
  return row === undefined || hash === undefined ? [] : [{ db, dbFile, narHash: hash, narSize: row.narSize }];
}
