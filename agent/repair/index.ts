/** Store repairs (dedupe, pivot): only the upper layer changes, only under Nix's GC lock. */
export { acquireGcLock, gcLockPath, GcLockError, type GcLockErrorCode, type GcLockOptions } from './gc-lock.ts';
export { runDedupe, type DedupeOptions, type DedupeReport } from './run-dedupe.ts';
export { judgeDuplicate, DEDUPE_VERDICTS, type DedupeVerdict, type DbMatch, type DuplicateHashes, type DuplicateJudgement } from './dedupe-judge.ts';
export { leftDuplicateFinding, servedCheckFinding, type DedupePathReport, type ServedCheck } from './dedupe-findings.ts';
export { setAside, deleteLeftover, DedupeError, type DedupeErrorCode } from './dedupe-removal.ts';
export { gatherDedupeFacts, type DedupeCandidate, type DedupeFacts } from './dedupe-candidates.ts';
export {
  dedupeHandler,
  toDedupeRequest,
  answeredReport,
  DEFAULT_LOCK_TIMEOUT_SECONDS,
  MAX_LOCK_TIMEOUT_SECONDS,
  MAX_PATHS_ANSWERED,
  type AnsweredDedupeReport,
  type DedupeRequest,
} from './dedupe-control.ts';
