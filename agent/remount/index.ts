/** Remounting: the pure planner, the persisted flag, the lock, the command runner and the Remounter that ties them together. */
export {
  REMOUNT_SOURCES,
  PROBE_SYMPTOMS,
  isRemountRequest,
  describeRemountRequest,
  type RemountRequest,
  type RemountSource,
  type ProbeSymptom,
} from './remount-request.ts';
export {
  planRemount,
  retryDelay,
  backoffDelay,
  INITIAL_REMOUNT_PLAN,
  MAX_BACKOFF_MS,
  type RemountPlanState,
  type RemountPlanEvent,
  type RemountPlanAction,
  type RemountPlanStep,
  type RemountPlanSettings,
  type RemountPhase,
} from './remount-plan.ts';
export {
  REMOUNT_NEEDED_FILE,
  MAX_KEPT_REASONS,
  addFlagReason,
  recordFlagAttempt,
  recordFlagError,
  clearFlagThrough,
  isRemountNeeded,
  remountNeededPath,
  readRemountNeeded,
  writeRemountNeeded,
  clearRemountNeeded,
  type RemountNeeded,
  type FlagReason,
} from './remount-needed.ts';
export {
  remountArgv,
  resolveExecutable,
  trustedRemountArgv,
  runRemountCommand,
  commandRunError,
  commandSucceeded,
  REMOUNT_ENV,
  type CommandRun,
  type RunCommandOptions,
} from './remount-command.ts';
export { OutputTail, type CapturedOutput } from './output-tail.ts';
export {
  acquireRemountLock,
  remountLockPath,
  REMOUNT_LOCK_FILE,
  REMOUNT_LOCK_FD,
  type HeldRemountLock,
  type AcquireRemountLockOptions,
} from './remount-lock.ts';
export {
  REMOUNT_EVENT_TYPES,
  REMOUNT_STATUSES,
  ZERO_REMOUNT_COUNTERS,
  type RemountEvent,
  type RemountEventType,
  type RemountOutcome,
  type RemountStatus,
  type RemountCounters,
  type RemountVerification,
  type RemountVerifier,
  type AttemptReport,
  type ErrorReport,
} from './remount-events.ts';
export { RemountError, type RemountErrorCode } from './remount-errors.ts';
export { Remounter, type RemounterOptions, type RemounterEventMap, type RemounterStatus, type RemountSettings, type RestoredRemount } from './remounter.ts';
export { defaultRemountHook, nixRemountHook } from './hook-paths.ts';
export { runVerifier } from './run-verifier.ts';
export { mountCheckVerifier, mountFindings } from './mount-check-verifier.ts';
export { staleViewVerifier, type StaleViewVerifierOptions } from './stale-view-verifier.ts';
export { remountLogLine, remountRequestLogLine, restoredRemountLogLine } from './remount-log-lines.ts';
export { isRemountFailing } from './remount-failing.ts';
