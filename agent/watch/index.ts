/** Drift detection: the start-up diff against the baseline, the live layer, DB and mount watchers, typed events. */
export { DRIFT_EVENT_TYPES, isDriftEvent, isLowerStoreDrift, pathsOfDriftEvent } from './drift-events.ts';
export type {
  DriftEvent,
  DriftEventBody,
  DriftEventType,
  DriftEventOf,
  DriftSource,
  BrokenUpperClosure,
  LowerPathChange,
  MountChangeKind,
  LowerGrewEvent,
  LowerShrankEvent,
  LowerPathModifiedEvent,
  LowerDbReplacedEvent,
  LowerDbModifiedEvent,
  LowerDaemonModifiedEvent,
  UpperPathAddedEvent,
  UpperPathDeletedEvent,
  UpperWhiteoutAddedEvent,
  MountChangedEvent,
} from './drift-events.ts';
export { DriftEmitter, type DriftEmitterEvents } from './drift-emitter.ts';
export { WatchError, WATCH_ERROR_CODES, type WatchErrorCode } from './watch-errors.ts';
export { startupDrift, type DriftLayout, type StartupDriftOptions, type StartupDriftResult } from './startup-drift.ts';
export { upperDbClosureLookup, type UpperClosureLookup } from './broken-closures.ts';
export { lowerShrankEvent, lowerDbEvent, type ShrinkContext } from './event-builders.ts';
export {
  classifyLowerChanges,
  classifyUpperChanges,
  type LowerObservation,
  type LowerChanges,
  type UpperObservation,
  type UpperChange,
  type UpperState,
} from './layer-changes.ts';
export { layerEntry, layerEntryState, type LayerEntry } from './layer-entry.ts';
export { LiveEntryIndex } from './live-entry-index.ts';
export { TopLevelWatcher, type TopLevelWatcherOptions, type DirBatch, type NameChange } from './top-level-watcher.ts';
export { LowerDbWatcher, type LowerDbWatcherOptions } from './db-watcher.ts';
export { LowerDaemonWatcher, type LowerDaemonWatcherOptions, type LowerDaemonStatus, type WatcherTimers } from './daemon-watcher.ts';
export { reconnectDelayMs, type BackoffSettings } from './daemon-backoff.ts';
export { LayerWatcher, layerWatcherOptionsOf, type LayerWatcherOptions } from './layer-watcher.ts';
export { MountWatcher, mountWatcherOptionsOf, type MountWatcherOptions } from './mount-watcher.ts';
export { mountViewOf, diffMountViews, snapshotOf, type MountView, type MountSnapshot, type MountChange } from './mount-view.ts';
export {
  WATCHER_HEALTH_EVENT_TYPES,
  WATCHER_NAMES,
  WATCHER_DOWN_REASONS,
  nextWatcherHealth,
  WatcherHealthState,
  type WatcherHealthEventType,
  type WatcherName,
  type WatcherDownReason,
  type WatcherDownEvent,
  type WatcherUpEvent,
  type WatcherHealthEvent,
  type WatcherHealth,
  type HealthObservation,
} from './watcher-health.ts';
export { DirSentinel, dirPresence, dirLoss, type DirIdentity, type DirPresence, type DirSentinelOptions } from './dir-sentinel.ts';
