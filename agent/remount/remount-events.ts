/** What the remounter reports: typed events (a union on `type`), the outcome each request gets, and its counters. */
import type { Finding } from '../findings/index.ts';
import type { CapturedOutput } from './output-tail.ts';
import type { RemountRequest } from './remount-request.ts';

/** What the check after a remount found: `fresh` when the merged view again shows what the layers hold. */
export interface RemountVerification {
  readonly fresh: boolean;
  readonly findings: readonly Finding[];
}

/**
 * Re-runs the mount check and the probe after a remount; injected, so the remounter does not depend on the checks.
 * `requests` are the pending ones the remount answers (what the probe should look at).
 */
export type RemountVerifier = (requests: readonly RemountRequest[], signal: AbortSignal) => Promise<RemountVerification>;

/** An error as plain data, for events, outcomes and the state file. */
export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

/** One run of the remount command. */
export interface AttemptReport {
  readonly attempt: number;
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly stdout: CapturedOutput;
  readonly stderr: CapturedOutput;
}

export const REMOUNT_STATUSES = ['remounted', 'failed', 'cancelled'] as const;
/** `remounted`: the command succeeded and the check found the view fresh. */
export type RemountStatus = (typeof REMOUNT_STATUSES)[number];

/** What a request gets back: the outcome of the run that covered it (shared by every request that run covered). */
export interface RemountOutcome {
  readonly run: number;
  readonly status: RemountStatus;
  /** True only when the check after the remount found the view fresh. */
  readonly fresh: boolean;
  readonly attempts: number;
  /** Requests this run answered (1: it ran for one request alone; more: they were coalesced). */
  readonly requests: number;
  /** The latest reasons, as sentences. */
  readonly reasons: readonly string[];
  readonly error: ErrorReport | undefined;
  readonly lastAttempt: AttemptReport | undefined;
  /** The findings of the last check after a remount. */
  readonly findings: readonly Finding[];
  readonly startedAt: string | undefined;
  readonly finishedAt: string;
}

export const REMOUNT_EVENT_TYPES = {
  requested: 'remount-requested',
  started: 'remount-started',
  succeeded: 'remount-succeeded',
  failed: 'remount-failed',
  verified: 'remount-verified',
  gaveUp: 'remount-gave-up',
} as const;
export type RemountEventType = (typeof REMOUNT_EVENT_TYPES)[keyof typeof REMOUNT_EVENT_TYPES];

export type RemountEvent =
  /** A flag arrived; `coalesced` when it joined a window or run already scheduled. */
  | { readonly type: 'remount-requested'; readonly request: RemountRequest; readonly ticket: number; readonly coalesced: boolean }
  /** An attempt of the remount command starts. */
  | { readonly type: 'remount-started'; readonly run: number; readonly attempt: number; readonly argv: readonly string[]; readonly requests: number }
  /** The command exited 0 (the check comes next). */
  | { readonly type: 'remount-succeeded'; readonly run: number; readonly attempt: number; readonly report: AttemptReport }
  /** The attempt failed (command, timeout, refused command, stale after); `retryInMs` undefined means no retry. */
  | {
      readonly type: 'remount-failed';
      readonly run: number;
      readonly attempt: number;
      readonly error: ErrorReport;
      readonly retryInMs: number | undefined;
      readonly report: AttemptReport | undefined;
    }
  /** The check after a successful command ran. */
  | { readonly type: 'remount-verified'; readonly run: number; readonly attempt: number; readonly fresh: boolean; readonly findings: readonly Finding[] }
  /** The run used its attempts (or could not be retried): reported, and the flag stays persisted. */
  | { readonly type: 'remount-gave-up'; readonly run: number; readonly attempts: number; readonly error: ErrorReport; readonly requests: number };

/** Counters for the metrics endpoint (`overlay_warden_remount_…_total`). */
export interface RemountCounters {
  /** Requests received. */
  readonly requests: number;
  /** Requests that joined a window or run already scheduled instead of starting one. */
  readonly coalesced: number;
  /** Runs started (each covers one or more requests; a run has one or more attempts). */
  readonly runs: number;
  readonly attempts: number;
  /** Attempts that failed (command failed, timed out, refused, or stale after). */
  readonly failures: number;
  /** Runs that gave up. */
  readonly gaveUp: number;
  /** Runs that ended with a fresh view. */
  readonly remounted: number;
  /** Checks after a successful command that still found the view stale. */
  readonly verifiedStale: number;
}

export const ZERO_REMOUNT_COUNTERS: RemountCounters = Object.freeze({
  requests: 0,
  coalesced: 0,
  runs: 0,
  attempts: 0,
  failures: 0,
  gaveUp: 0,
  remounted: 0,
  verifiedStale: 0,
});
