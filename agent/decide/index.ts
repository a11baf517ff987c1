export { decideOnDrift, decideOnProbe, eventLevel, describeDrift, type AgentAction, type EventLevel, type DecisionLayout } from './drift-decisions.ts';
export { driftLogLine } from './drift-log-line.ts';
export { probePathsAfterRemount } from './probe-after-remount.ts';
