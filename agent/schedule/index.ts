/** Scheduled work inside the agent: audits after lower-store changes and on a schedule, scrubs in chunks within a budget. */
export { scheduleService } from './schedule-service.ts';
export { Scheduler, SCRUB_RETRY_MS, type ScheduleObserver, type ScheduleHost, type SchedulerOptions } from './scheduler.ts';
export type { ScheduleStatus, AuditOutcome } from './schedule-status.ts';
export { auditDueAt, type AuditClock, type AuditTiming } from './audit-timing.ts';
export { nextWork, type NextWork } from './next-work.ts';
export { ReadBudget, takeFromBucket, SYSTEM_CLOCK, type Bucket, type Clock, type ReadBudgetOptions } from './read-budget.ts';
export {
  readChunk,
  advancePass,
  toLowerLayer,
  passEtaMs,
  chunkLimitsFor,
  CHUNK_PATHS,
  CHUNK_BYTES,
  CHUNK_SECONDS,
  type Chunk,
  type ChunkLimits,
  type ChunkOutcome,
} from './scrub-chunk.ts';
export { ScrubChunkSource, DAEMON_WINDOW_CHUNKS } from './scrub-chunk-source.ts';
export {
  loadScrubState,
  saveScrubState,
  freshScrubState,
  scrubStateFileOf,
  isScrubStateJson,
  SCRUB_FINDINGS_KEPT,
  type ScrubState,
  type ScrubPass,
  type ScrubCompleted,
  type ScrubLayer,
} from './scrub-state.ts';
