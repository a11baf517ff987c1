/** What the attempts of one run leave behind, and the outcome every request that run covered gets from it. */
import type { Finding } from '../findings/index.ts';
import type { AttemptReport, ErrorReport, RemountOutcome, RemountStatus } from './remount-events.ts';
import type { FlagReason } from './remount-needed.ts';
import { describeRemountRequest } from './remount-request.ts';

/** Filled in as a run's attempts go: when it started, its last command, the error that failed it, the last check's findings. */
export interface RunRecord {
  startedAt: number | undefined;
  lastAttempt: AttemptReport | undefined;
  error: ErrorReport | undefined;
  findings: readonly Finding[];
}

/** A record before any attempt (also what a run cancelled before it started leaves). */
export function emptyRunRecord(startedAt?: number): RunRecord {
  return { startedAt, lastAttempt: undefined, error: undefined, findings: [] };
}

/** How a run ended, with what the remounter counted for it. */
export interface RunEnd {
  readonly status: RemountStatus;
  readonly run: number;
  readonly attempts: number;
  /** Requests the run answers. */
  readonly requests: number;
  readonly error: ErrorReport | undefined;
  /** The flag's reasons the run covered; the outcome names the latest five. */
  readonly reasons: readonly FlagReason[];
  readonly finishedAt: number;
}

/** The frozen outcome of a run, from its record and how it ended. Pure. */
export function runOutcome(record: RunRecord, end: RunEnd): RemountOutcome {
  return Object.freeze({
    run: end.run,
    status: end.status,
    fresh: end.status === 'remounted',
    attempts: end.attempts,
    requests: end.requests,
    reasons: end.reasons.slice(-5).map((r) => describeRemountRequest(r.request)),
    error: end.error,
    lastAttempt: record.lastAttempt,
    findings: record.findings,
    startedAt: record.startedAt === undefined ? undefined : new Date(record.startedAt).toISOString(),
    finishedAt: new Date(end.finishedAt).toISOString(),
  });
}
