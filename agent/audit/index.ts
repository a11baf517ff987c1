/** Store audit and content verification: both DBs and both layers against each other, and NAR hashes in the worker pool. */
export { runAudit, decide, AUDIT_PHASES, type AuditOptions, type AuditReport, type AuditStats, type AuditProgress, type AuditPhase } from './run-audit.ts';
export { runVerify, VERIFY_SCOPES, type VerifyOptions, type VerifyReport, type VerifyScope } from './run-verify.ts';
export { AuditError, type AuditErrorCode } from './audit-error.ts';
export type { AuditFacts, PairComparison } from './audit-facts.ts';
export { findDangling } from './find-dangling.ts';
export { findBrokenClosures, DEFAULT_BROKEN_CLOSURE_LIMITS, type BrokenClosureLimits } from './find-broken-closure.ts';
export { findDuplicates, duplicateIds } from './find-duplicate.ts';
export { findMasked } from './find-masked.ts';
export { findStrays, isNixOwnEntry, NIX_OWN_ENTRIES } from './find-stray.ts';
export { findDiverged, lowerRowsOfUpper, type LowerLookups } from './find-diverged.ts';
export { judgeMeasurement, judgeFailure, vanished, type VerifyItem, type Expectation, type NarMeasurement, type DbSide } from './find-corrupt.ts';
export { locateRows, LOCATIONS, LOCATION_CODE, type Location } from './locate.ts';
export { readDbIndex, joinIndexes, pathResolver, type DbIndex, type JoinedRows, type SkippedRow, type ReadDbIndexOptions } from './db-index.ts';
export { readRefGraph, joinReferences, reverse, type RefGraph, type JoinedReferences, type UnknownReference } from './ref-graph.ts';
export { listLayer, listLayerAgainst, keySetAgainst, kindAt, KIND_CODE, type LayerListing, type LayerKeySet, type OtherEntry } from './layer-listing.ts';
export { applyOverlayMarks } from './layer-marks.ts';
export { hashingThreads, AUTO_THREADS_PER_CORE, AUTO_THREADS_MAX } from './pool-threads.ts';
export {
  nextAdaptState,
  startAdaptState,
  parseProcIo,
  readCounters,
  Gate,
  COLD_SHARE,
  QUIET_STORAGE_BYTES,
  COLD_STORAGE_BYTES,
  WINDOW_INTERVALS,
  QUIET_INTERVALS_TO_CUT,
  type AdaptState,
  type ConcurrencyBounds,
  type ReadCounters,
  type IntervalReads,
} from './hashing-concurrency.ts';
export { KeyTable, type KeyTableData } from './key-table.ts';
export { userPathBaseName } from './verify-paths.ts';
export { VERIFY_BATCH_LIMITS } from './verify-batches.ts';
export { openAuditDbs, openUpperDb, withAuditDbs, type AuditDbs } from './open-dbs.ts';
export { DEDUPE_LEFTOVER_PREFIX, dedupeLeftoverName, dedupeLeftoverOf } from './dedupe-leftover.ts';
