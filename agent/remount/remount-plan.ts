/** The remount scheduler as a pure state machine: coalescing, single flight, retries with backoff, give-up. */

/** The settings the planner needs, in milliseconds (resolved from `config.remount`). */
export interface RemountPlanSettings {
  /** Flags within this window after the first one share one run. */
  readonly coalesceMs: number;
  /** Attempts per run before it gives up (≥ 1). */
  readonly attempts: number;
  /** Delay before the second attempt; doubles for each further one, capped at MAX_BACKOFF_MS (or the base if larger). */
  readonly backoffMs: number;
}

/** The longest wait between two attempts, whatever the attempt count: a remount should not wait hours. */
export const MAX_BACKOFF_MS = 10 * 60_000;

export type RemountPhase = 'idle' | 'coalescing' | 'running' | 'backoff' | 'closed';

/**
 * Where the scheduler is. Requests are numbered tickets (1, 2, …; 0 is a flag
 * restored from the state file); a run answers every ticket up to `coveredUpTo`,
 * fixed when its latest attempt started, because a remount only fixes what was
 * flagged before it ran.
 */
export interface RemountPlanState {
  readonly phase: RemountPhase;
  /** The current run's number, or the last one's (0 before the first). */
  readonly run: number;
  /** The current run's attempt (1-based; 0 while idle or coalescing). */
  readonly attempt: number;
  /** When the coalescing window or the backoff wait ends (coalescing and backoff only). */
  readonly dueAt: number | undefined;
  /** The highest ticket flagged so far. */
  readonly lastTicket: number;
  /** The highest ticket the current (or last) run answers. */
  readonly coveredUpTo: number;
  /** When the first flag arrived that the running attempt cannot cover (it opens the follow-up run). */
  readonly followUpSince: number | undefined;
}

export type RemountPlanEvent =
  /** A request arrived at `at` with ticket number `ticket`. */
  | { readonly type: 'flag'; readonly at: number; readonly ticket: number }
  /** The timer set by `wait-until` fired. */
  | { readonly type: 'due'; readonly at: number }
  /** The running attempt ended; `retryable: false` when retrying cannot help (a refused command). */
  | { readonly type: 'attempt-ended'; readonly at: number; readonly ok: boolean; readonly retryable: boolean }
  | { readonly type: 'close' };

export type RemountPlanAction =
  /** (Re)arm the one timer to fire a `due` event at `at`. */
  | { readonly type: 'wait-until'; readonly at: number }
  /** Run the remount command now; the attempt answers tickets up to `coversUpTo`. */
  | { readonly type: 'start-attempt'; readonly run: number; readonly attempt: number; readonly coversUpTo: number }
  /** The run is over: answer tickets up to `coversUpTo`. `ok: false` means it gave up. */
  | { readonly type: 'finish-run'; readonly run: number; readonly ok: boolean; readonly attempts: number; readonly coversUpTo: number };

export interface RemountPlanStep {
  readonly state: RemountPlanState;
  readonly actions: readonly RemountPlanAction[];
  /** For `flag` events: true when the flag joined a window or run already scheduled instead of opening one. */
  readonly coalesced?: boolean;
}

/** The state before any flag. */
export const INITIAL_REMOUNT_PLAN: RemountPlanState = Object.freeze({
  phase: 'idle',
  run: 0,
  attempt: 0,
  dueAt: undefined,
  lastTicket: 0,
  coveredUpTo: 0,
  followUpSince: undefined,
});

/** The wait before attempt `failed + 1` after attempt `failed` failed: backoff · 2^(failed−1), capped. Pure. */
export function backoffDelay(failedAttempt: number, backoffMs: number): number {
  return Math.min(backoffMs * 2 ** (failedAttempt - 1), Math.max(backoffMs, MAX_BACKOFF_MS));
}

/**
 * What happens if the running attempt fails now: the delay before the retry, or
 * undefined when the run gives up (attempts used up, or not retryable). Pure.
 */
export function retryDelay(state: RemountPlanState, retryable: boolean, settings: RemountPlanSettings): number | undefined {
  if (state.phase !== 'running' || !retryable || state.attempt >= settings.attempts) return undefined;
  return backoffDelay(state.attempt, settings.backoffMs);
}

/**
 * The next state and the actions to take for `event`. Pure and total: an event
 * that does not apply in the current phase (a stale timer, a result after
 * close) leaves the state as it is and asks for nothing.
 *
 * - Flags open a window of `coalesceMs` from the first one; every flag in it
 *   shares the run that starts when it closes.
 * - Single flight: flags while an attempt runs open exactly one follow-up run,
 *   which starts when the current run ends (its window counted from the first
 *   such flag). Flags during a backoff wait join the retry, which runs after them.
 * - A failed attempt is retried after `backoffDelay` until `attempts` are used;
 *   then the run gives up, and a later flag starts afresh.
 */
export function planRemount(state: RemountPlanState, event: RemountPlanEvent, settings: RemountPlanSettings): RemountPlanStep {
  if (state.phase === 'closed') return { state, actions: [], ...(event.type === 'flag' ? { coalesced: true } : {}) };
  switch (event.type) {
    case 'flag':
      return onFlag(state, event.at, event.ticket, settings);
    case 'due':
      return onDue(state, event.at);
    case 'attempt-ended':
      return onAttemptEnded(state, event.at, event.ok, event.retryable, settings);
    case 'close':
      return { state: { ...state, phase: 'closed', dueAt: undefined }, actions: [] };
  }
}

function onFlag(state: RemountPlanState, at: number, ticket: number, settings: RemountPlanSettings): RemountPlanStep {
  const lastTicket = Math.max(state.lastTicket, ticket);
  switch (state.phase) {
    case 'idle': {
      const dueAt = at + settings.coalesceMs;
      return {
        state: { ...state, phase: 'coalescing', attempt: 0, dueAt, lastTicket, followUpSince: undefined },
        actions: [{ type: 'wait-until', at: dueAt }],
        coalesced: false,
      };
    }
    case 'running':
      if (state.followUpSince === undefined) return { state: { ...state, lastTicket, followUpSince: at }, actions: [], coalesced: false };
      return { state: { ...state, lastTicket }, actions: [], coalesced: true };
    default:
      // coalescing, or backoff (the retry starts after this flag, so it covers it).
      return { state: { ...state, lastTicket }, actions: [], coalesced: true };
  }
}

function onDue(state: RemountPlanState, at: number): RemountPlanStep {
  if ((state.phase !== 'coalescing' && state.phase !== 'backoff') || state.dueAt === undefined) return { state, actions: [] };
  // Timers may fire a little early against the clock we are given: wait the rest.
  if (at < state.dueAt) return { state, actions: [{ type: 'wait-until', at: state.dueAt }] };
  const run = state.phase === 'coalescing' ? state.run + 1 : state.run;
  const attempt = state.phase === 'coalescing' ? 1 : state.attempt + 1;
  const next: RemountPlanState = { ...state, phase: 'running', run, attempt, dueAt: undefined, coveredUpTo: state.lastTicket, followUpSince: undefined };
  return { state: next, actions: [{ type: 'start-attempt', run, attempt, coversUpTo: state.lastTicket }] };
}

function onAttemptEnded(state: RemountPlanState, at: number, ok: boolean, retryable: boolean, settings: RemountPlanSettings): RemountPlanStep {
  if (state.phase !== 'running') return { state, actions: [] };
  const delay = ok ? undefined : retryDelay(state, retryable, settings);
  if (delay !== undefined) {
    // The retry runs after every flag so far, so the follow-up (if any) merges into it.
    const dueAt = at + delay;
    return { state: { ...state, phase: 'backoff', dueAt, followUpSince: undefined }, actions: [{ type: 'wait-until', at: dueAt }] };
  }
  const finish: RemountPlanAction = { type: 'finish-run', run: state.run, ok, attempts: state.attempt, coversUpTo: state.coveredUpTo };
  if (state.followUpSince === undefined) return { state: { ...state, phase: 'idle', attempt: 0, dueAt: undefined }, actions: [finish] };
  const dueAt = Math.max(at, state.followUpSince + settings.coalesceMs);
  return { state: { ...state, phase: 'coalescing', attempt: 0, dueAt, followUpSince: undefined }, actions: [finish, { type: 'wait-until', at: dueAt }] };
}
