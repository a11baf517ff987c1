/** Store repairs (dedupe, pivot): only the upper layer changes, only under Nix's GC lock. */
export { acquireGcLock, gcLockPath, GcLockError, type GcLockErrorCode, type GcLockOptions } from './gc-lock.ts';
export { runPivot, type PivotOptions, type PivotReport, type PivotProblem, type PivotRemount } from './run-pivot.ts';
export { planPivot, registerCommand, type PivotPlan, type PivotPlanInput, type PivotRegistration, type PivotLocation } from './pivot-plan.ts';
export { parseDeadList, BAD_LINES_SHOWN } from './dead-list.ts';
export { PivotError, type PivotErrorCode } from './pivot-errors.ts';
export { PIVOT_TEMP_PREFIX } from './pivot-copy.ts';
export { decideSpace, SPACE_RESERVE_BYTES, type SpaceCheck } from './upper-space.ts';
export type { VanishingSource } from './vanishing.ts';
export { toPivotRequest, pivotRequestFields, runPivotRequest, pivotHandler, type PivotRequest, type PivotRunContext } from './pivot-request.ts';
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
