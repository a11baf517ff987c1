/** When the next scheduled audit is due (pure): debounced after lower-store changes, and every so often. */

/** Audit timing settings in milliseconds (`off`: that trigger never fires). */
export interface AuditTiming {
  readonly afterDrift: { readonly settle: number; readonly maxDelay: number } | 'off';
  readonly every: number | 'off';
}

/** What the scheduler knows of lower-store changes and audits, as clock times in milliseconds. */
export interface AuditClock {
  /** The first lower-store change not yet covered by an audit (undefined: none). */
  readonly pendingSince: number | undefined;
  /** The latest such change. */
  readonly lastDriftAt: number | undefined;
  /** When the last audit ended, or when the agent started before any. */
  readonly lastAuditAt: number;
}

/**
 * When the next audit is due, or undefined when nothing will make one due (both triggers off, and no pending change
 * with afterDrift on). After a change: `settle` after the latest change, but no later than `maxDelay` after the first
 * unaudited one, so a store that keeps changing is still audited. Every `every` after the last audit in any case.
 */
export function auditDueAt(clock: AuditClock, timing: AuditTiming): number | undefined {
  const due: number[] = [];
  if (timing.afterDrift !== 'off' && clock.pendingSince !== undefined) {
    const settled = (clock.lastDriftAt ?? clock.pendingSince) + timing.afterDrift.settle;
    due.push(Math.min(settled, clock.pendingSince + timing.afterDrift.maxDelay));
  }
  if (timing.every !== 'off') due.push(clock.lastAuditAt + timing.every);
  return due.length === 0 ? undefined : Math.min(...due);
}
