export { decideOnDrift, decideOnProbe, eventLevel, describeDrift, type AgentAction, type EventLevel, type DecisionLayout } from './drift-decisions.ts';
export { driftLogLine, boundedForLog } from './drift-log-line.ts';
export { probeLogLine } from './probe-log-line.ts';
export { decideOnWatcherHealth, watcherHealthLogLine } from './watcher-health-decisions.ts';
export { probePathsAfterRemount } from './probe-after-remount.ts';
