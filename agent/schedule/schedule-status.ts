/** The `schedule` section of the agent's status: scheduled audits, the scrub's progress, and the scrub pool's gauges. */

export interface ScheduleStatus {
  readonly audit: {
    /** `running` now, `pending` (a lower-store change waits for its audit), or `idle`. */
    readonly state: 'idle' | 'pending' | 'running';
    readonly afterDrift: { readonly settleMs: number; readonly maxDelayMs: number } | 'off';
    readonly everyMs: number | 'off';
    /** When the next audit is due, if anything makes one due. */
    readonly nextAt: string | undefined;
    readonly pendingSince: string | undefined;
    readonly runs: number;
    readonly last: AuditOutcome | undefined;
  };
  readonly scrub: {
    /** `running` a chunk, `waiting` for the read budget, `retrying` after a chunk failed, `idle` between passes. */
    readonly state: 'idle' | 'running' | 'waiting' | 'retrying' | 'off';
    readonly everyMs: number | 'off';
    readonly layers: 'upper' | 'both';
    readonly maxReadMBps: number | 'off';
    readonly threads: number;
    readonly nextAt: string | undefined;
    /** The pass under way. */
    readonly pass:
      | {
          readonly startedAt: string;
          readonly layer: 'upper' | 'lower';
          readonly pathsDone: number;
          readonly pathsTotal: number;
          readonly bytes: number;
          readonly findings: number;
          readonly eta: string | undefined;
        }
      | undefined;
    readonly lastCompleted:
      { readonly at: string; readonly startedAt: string; readonly paths: number; readonly bytes: number; readonly findings: number } | undefined;
    /** The last chunk's error, while the scrub retries it. */
    readonly lastError: string | undefined;
    /** The read budget in this agent run: NAR bytes it let the scrub read, and time the scrub waited for it. */
    readonly budget: { readonly grantedBytes: number; readonly waitedMs: number };
  };
  /** The scrub's hashing threads: live threads, tasks running, tasks waiting (zeros when idle). */
  readonly pool: { readonly threads: number; readonly busy: number; readonly queued: number };
}

export interface AuditOutcome {
  readonly at: string;
  readonly reason: 'drift' | 'every';
  readonly seconds: number;
  readonly findings: number;
  readonly errors: number;
  /** Set when the audit failed (no findings event then). */
  readonly error: string | undefined;
}
