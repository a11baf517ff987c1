/** What to tell systemd next (pure): READY=1 once, a STATUS= line when it changes, and whether the agent still earns a watchdog ping. */
import type { Readiness } from '../http/index.ts';

/** What has been told so far. */
export interface NotifyProgress {
  readonly readySent: boolean;
  readonly status: string | undefined;
}

export const NO_NOTIFY_PROGRESS: NotifyProgress = { readySent: false, status: undefined };

/** The assignments to send now (empty: nothing new) and the progress after sending them. */
export interface NotifyStep {
  readonly assignments: readonly string[];
  readonly progress: NotifyProgress;
}

/**
 * The notification for the agent's readiness now. READY=1 follows `/readyz` (the last mount check found no error and
 * no remount is failing) and is sent once per process: systemd has no way back from ready, so later trouble shows in
 * STATUS= (and in the alerts). Before it, STATUS= says why the agent is not ready yet; systemd shows it in
 * `systemctl status` while the unit is still activating.
 */
export function planNotification(progress: NotifyProgress, readiness: Readiness, mergedStoreDir: string): NotifyStep {
  const status = statusTextOf(readiness, mergedStoreDir);
  const assignments: string[] = [];
  const ready = progress.readySent || readiness.ready;
  if (ready && !progress.readySent) assignments.push('READY=1');
  if (status !== progress.status) assignments.push(`STATUS=${status}`);
  return { assignments, progress: { readySent: ready, status } };
}

/** The one line `systemctl status` shows for the agent. */
export function statusTextOf(readiness: Readiness, mergedStoreDir: string): string {
  if (readiness.ready) return `watching ${mergedStoreDir}: the mount is valid`;
  return `${mergedStoreDir} not ready: ${readiness.reasons.join('; ')}`;
}

/** The watchdog's view of the agent's action queue: when the oldest unanswered "are you done?" was asked. */
export interface QueueProbe {
  /** When the pending probe of the queue started (ms), or undefined when none is pending. */
  readonly pendingSinceMs: number | undefined;
}

/**
 * Whether the agent earns its WATCHDOG=1 now. That the timer runs at all shows the event loop turns; the queue probe
 * shows the agent's actions (mount checks, probes, baseline saves) still finish: one stuck longer than `stallLimitMs`
 * (a stat on a hung file system blocks a libuv thread for good) withholds the ping, so systemd restarts the agent
 * and logs why, instead of a supervisor that looks alive and checks nothing.
 */
export function earnsWatchdogPing(probe: QueueProbe, nowMs: number, stallLimitMs: number): boolean {
  return probe.pendingSinceMs === undefined || nowMs - probe.pendingSinceMs <= stallLimitMs;
}
