/**
 * One read-only view of a lower store's metadata, whether it comes from its SQLite DB or from a nix-daemon: the
 * queries the audit, verify, scrub and the repairs ask of the lower store. openLowerMetadata picks the source from
 * the lower store's layout.
 */
import type { PathInfo, Realisation, ReferenceEdge, ValidPathRow } from './nix-db-rows.ts';

/**
 * An op the lower store's daemon rejected (STDERR_ERROR; snix rejects what it does not implement), and what could
 * therefore not be read. The metadata is still usable; what rests on the missing part is not computed.
 */
export interface LowerMetadataGap {
  /** The worker-protocol op, e.g. `QueryAllValidPaths`. */
  readonly operation: string;
  /** The daemon's message. */
  readonly message: string;
  /** What was read instead, or what is missing, in words (for the finding). */
  readonly consequence: string;
  /** Finding ids that could not be computed, or only in part. */
  readonly notComputed: readonly string[];
}

/**
 * A lower store's metadata, read-only. Row ids are stable within one open only: the DB's ValidPaths ids, or a
 * daemon snapshot's positions in path order (1-based). Every method may throw the source's typed error (NixDbError
 * for a DB; DaemonError or LowerMetadataError for a daemon snapshot).
 */
export interface LowerMetadata {
  /** What it was read from, for messages and evidence: the DB file, or `nix-daemon <socket>`. */
  readonly source: string;
  readonly storeDir: string;
  /** Ops the source rejected and what is missing because of them; [] for a DB and for a full daemon snapshot. */
  readonly gaps: readonly LowerMetadataGap[];
  /** Every valid path in id order (see NixDb.iterateValidPaths); with `afterId`, only those after it. */
  iterateValidPaths(afterId?: number): Generator<ValidPathRow, void, undefined>;
  /** Number of valid paths. */
  countValidPaths(): number;
  /** True when `storePath` is registered. */
  isValidPath(storePath: string): boolean;
  /** The row and sorted references of `storePath`, or undefined when it is not registered. */
  queryPathInfo(storePath: string): PathInfo | undefined;
  /** Sorted references of `storePath` (itself included when self-referencing), or undefined when not registered. */
  queryReferences(storePath: string): string[] | undefined;
  /** Sorted paths referencing `storePath`, or undefined when not registered. */
  queryReferrers(storePath: string): string[] | undefined;
  /** The valid path whose hash part is `hashPart`, or undefined. */
  queryPathFromHashPart(hashPart: string): string | undefined;
  /** All realisations; a daemon has no op that lists them, so a daemon snapshot has none. */
  queryRealisations(): Realisation[];
  /** Every reference edge by path, ordered by referrer id, streamed. */
  iterateReferences(): Generator<ReferenceEdge, void, undefined>;
  /**
   * Every reference edge by row id, in batches: each Uint32Array holds up to `batchEdges` pairs
   * `[referrer, reference, referrer, reference, …]` ordered by referrer. Each batch is a new array the caller may keep.
   */
  iterateReferenceIds(batchEdges?: number): Generator<Uint32Array, void, undefined>;
  /** True when what was read may mix two states (a DB snapshot Nix wrote meanwhile); always false for a daemon snapshot. */
  changedSinceOpen(): boolean;
  assertUnchanged(action: string): void;
  /** Releases it; idempotent. */
  close(): void;
}
