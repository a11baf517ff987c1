/** The worker pool: store work (NAR hashing, pair comparisons) on threads, with cancellation and back-pressure. */
export { WorkerPool, type PoolStats, type PoolMapOptions } from './worker-pool.ts';
export { resolvePoolOptions, type WorkerPoolOptions, type ResolvedPoolOptions, type MachineFacts } from './pool-options.ts';
export { boundedMap, MAP_ORDERS, type BoundedMapOptions, type MapOutcome, type MapOrder } from './bounded-map.ts';
export { computeProgress, type MapProgress } from './map-progress.ts';
export { toErrorReport, UNCLASSIFIED_ERROR_CODE, type ErrorReport } from './error-report.ts';
export {
  PoolOptionsError,
  PoolAbortedError,
  PoolClosedError,
  PoolQueueFullError,
  PoolWorkerError,
  PoolTaskError,
  type PoolErrorCode,
  type PoolTaskFailureCode,
} from './pool-errors.ts';
export {
  TASK_TYPES,
  taskSubject,
  describeTask,
  resultBytes,
  sourcePath,
  type NarSource,
  type TaskType,
  type PoolTask,
  type NarHashTask,
  type NarHashBatchTask,
  type NarHashBatchEntry,
  type LowerObjectDigest,
  type NarHashBatchTaskResult,
  type ComparePairTask,
  type NarDigest,
  type NarHashTaskResult,
  type ComparePairTaskResult,
  type PoolTaskResult,
  type TaskResult,
  type TaskResultByType,
} from './tasks.ts';
export { allocatedBytesFreedByRemovalSync } from './disk-usage.ts';
export { rebuildThreadError, type SerialisedError, serialiseError } from './serialised-error.ts';
export { rebuildTaskError } from './tasks.ts';
export { siblingModuleUrl } from './worker-file.ts';
export { type ProgressCounts, type ProgressTotals } from './map-progress.ts';
