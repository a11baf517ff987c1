/** The only part of the agent that remounts: takes requests, persists the flag, runs the command as the planner says, verifies. */
import { EventEmitter } from 'node:events';
import { isAbsolute } from 'node:path';
import type { ConfigSettings } from '../config/index.ts';
import { WardenError, messageOf } from '../errors/index.ts';
import type { Finding } from '../findings/index.ts';
import type { Logger } from '../log/index.ts';
import { defaultRemountHook } from './hook-paths.ts';
import { commandRunError, remountArgv, runRemountCommand, trustedRemountArgv, type CommandRun } from './remount-command.ts';
import { RemountError } from './remount-errors.ts';
import {
  ZERO_REMOUNT_COUNTERS,
  type AttemptReport, type ErrorReport, type RemountCounters, type RemountEvent, type RemountOutcome, type RemountVerifier,
} from './remount-events.ts';
import {
  MAX_KEPT_REASONS, addFlagReason, clearFlagThrough, clearRemountNeeded, readRemountNeeded, recordFlagAttempt, recordFlagError, remountNeededPath, writeRemountNeeded,
  type FlagReason, type RemountNeeded,
} from './remount-needed.ts';
import { INITIAL_REMOUNT_PLAN, planRemount, retryDelay, type RemountPlanAction, type RemountPlanEvent, type RemountPlanSettings, type RemountPlanState } from './remount-plan.ts';
import { describeRemountRequest, type RemountRequest } from './remount-request.ts';
import { runVerifier } from './run-verifier.ts';

/** The `remount` section of the configuration. */
export type RemountSettings = ConfigSettings['remount'];

export interface RemounterOptions {
  /** The overlay mount point, passed as the command's last argument. */
  readonly mergedStoreDir: string;
  /** Where `remount-needed.json` lives. */
  readonly stateDir: string;
  readonly settings: RemountSettings;
  /** Re-runs the mount check and the probe after a successful command. */
  readonly verifyAfterRemount: RemountVerifier;
  readonly logger?: Logger;
  /** Wall clock in ms (tests may pass a fake; timers still use real time). */
  readonly now?: () => number;
  /** Between SIGTERM and SIGKILL for a command that overran or is cancelled. Default 5000. */
  readonly killGraceMs?: number;
  /** Bytes kept of the end of each of stdout and stderr. Default 16 KiB. */
  readonly maxOutputBytes?: number;
  /** The command when `settings.command` is unset. Default hooks/remount of this project. */
  readonly defaultHook?: string;
  /** Extra environment for the command. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The typed events a Remounter emits: every `RemountEvent` on `event`; unexpected problems (a state file that cannot be written) on `error`. */
export interface RemounterEventMap {
  event: [RemountEvent];
  error: [WardenError];
}

/** A snapshot for `/status` and the control socket's `status` action. */
export interface RemounterStatus {
  readonly phase: RemountPlanState['phase'];
  readonly run: number;
  readonly attempt: number;
  /** The persisted flag (what is pending), or undefined when nothing is. */
  readonly pending: RemountNeeded | undefined;
  readonly counters: RemountCounters;
  readonly lastOutcome: RemountOutcome | undefined;
}

/** A flag found at start: what was pending, and the outcome of the run that answers it. */
export interface RestoredRemount {
  readonly flag: RemountNeeded;
  readonly outcome: Promise<RemountOutcome>;
}

interface Waiter {
  readonly ticket: number;
  readonly resolve: (outcome: RemountOutcome) => void;
}

/** What the attempts of the current run left, for its outcome. */
interface RunRecord {
  startedAt: number | undefined;
  lastAttempt: AttemptReport | undefined;
  error: ErrorReport | undefined;
  findings: readonly Finding[];
}

const isoOrUndefined = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * Serialises every remount of one merged store dir. Requests are coalesced and
 * run single-flight (see `planRemount`); the "remount needed" flag is written
 * to the state dir before any attempt and removed only after a remount the
 * check found fresh. A command that fails, hangs or is refused is reported
 * (events, the request's outcome, the flag's lastError) and never throws.
 * Differs from Nix's `remountIfNecessary`: the flag is persisted, the command
 * has a timeout and retries, and success means "verified fresh", not "exit 0".
 */
export class Remounter extends EventEmitter<RemounterEventMap> {
  readonly #options: RemounterOptions;
  readonly #plan: RemountPlanSettings;
  readonly #flagFile: string;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  #state: RemountPlanState = INITIAL_REMOUNT_PLAN;
  #timer: NodeJS.Timeout | undefined;
  #waiters: Waiter[] = [];
  #flag: RemountNeeded | undefined;
  #current: Promise<void> | undefined;
  #answeredUpTo = 0;
  #restoredRequests = 0;
  #run: RunRecord = { startedAt: undefined, lastAttempt: undefined, error: undefined, findings: [] };
  #counters: { -readonly [K in keyof RemountCounters]: number } = { ...ZERO_REMOUNT_COUNTERS };
  #lastOutcome: RemountOutcome | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RemounterOptions) {
    super();
    if (!isAbsolute(options.mergedStoreDir)) throw new TypeError(`mergedStoreDir must be an absolute path, got ${JSON.stringify(options.mergedStoreDir)}`);
    this.#options = options;
    this.#plan = Object.freeze({ coalesceMs: options.settings.coalesceMs, attempts: options.settings.attempts, backoffMs: options.settings.backoffSeconds * 1000 });
    this.#flagFile = remountNeededPath(options.stateDir);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Picks up a flag persisted by an earlier process (crash, restart) and
   * schedules the remount it asked for. A flag file that cannot be read or
   * parsed counts as pending (a needless remount is harmless; a lost one is
   * not) and is reported on `error`. Returns the restored flag and the outcome
   * of the run that answers it, or undefined when nothing was pending.
   */
  start(): RestoredRemount | undefined {
    let restored: RemountNeeded | undefined;
    try {
      restored = readRemountNeeded(this.#flagFile);
    } catch (cause) {
      this.#reportError(cause, 'the remount-needed flag could not be read; remounting to be safe');
      restored = addFlagReason(undefined, { source: 'manual', by: 'overlay-warden (unreadable remount-needed.json)' }, this.#now(), 0);
    }
    if (restored === undefined || this.#state.phase === 'closed') return undefined;
    const current = this.#flag;
    this.#flag = current === undefined ? restored : { ...restored, requests: restored.requests + current.requests, reasons: [...restored.reasons, ...current.reasons].slice(-MAX_KEPT_REASONS) };
    this.#restoredRequests = restored.requests;
    this.#options.logger?.warn('a remount flagged before the agent (re)started is still pending; remounting', { since: restored.firstFlaggedAt, requests: restored.requests, attempts: restored.attempts });
    const outcome = new Promise<RemountOutcome>((resolve) => this.#waiters.push({ ticket: 0, resolve }));
    this.#apply({ type: 'flag', at: this.#now(), ticket: 0 });
    return { flag: restored, outcome };
  }

  /**
   * Flags a remount. Resolves with the outcome of the run that covers this
   * request (never rejects while open); rejects with RemountError
   * REMOUNTER_CLOSED after `close()`. The flag is persisted before this returns.
   */
  request(request: RemountRequest): Promise<RemountOutcome> {
    if (this.#state.phase === 'closed') {
      return Promise.reject(new RemountError('REMOUNTER_CLOSED', 'the remounter is closed (the agent is stopping)', { evidence: { request } }));
    }
    const at = this.#now();
    const ticket = this.#state.lastTicket + 1;
    const first = this.#flag === undefined;
    this.#flag = addFlagReason(this.#flag, request, at, ticket);
    // The transition to "needed" is written at once; later reasons are written before the next attempt.
    if (first) this.#persist();
    const outcome = new Promise<RemountOutcome>((resolve) => this.#waiters.push({ ticket, resolve }));
    const step = this.#apply({ type: 'flag', at, ticket });
    this.#counters.requests++;
    if (step.coalesced === true) this.#counters.coalesced++;
    this.#emit({ type: 'remount-requested', request, ticket, coalesced: step.coalesced === true });
    return outcome;
  }

  /** A snapshot of the scheduler, the pending flag and the counters. */
  status(): RemounterStatus {
    return { phase: this.#state.phase, run: this.#state.run, attempt: this.#state.attempt, pending: this.#flag, counters: this.counters, lastOutcome: this.#lastOutcome };
  }

  /** Totals since this remounter was made. */
  get counters(): RemountCounters {
    return Object.freeze({ ...this.#counters });
  }

  /**
   * Stops: no new attempt starts, a running command is killed (SIGTERM, then
   * SIGKILL after the kill grace), and pending requests resolve as `cancelled`.
   * The persisted flag stays, so the next start remounts. Waits at most
   * `graceMs` for the running attempt; clears every timer. Idempotent.
   */
  close(graceMs = 5000): Promise<void> {
    this.#closing ??= (async () => {
      this.#apply({ type: 'close' });
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#abort.abort(new RemountError('REMOUNT_CANCELLED', 'the remounter is closing'));
      if (this.#current !== undefined) await settleWithin(this.#current, graceMs);
      const outcome = this.#outcome(
        'cancelled',
        this.#state.run,
        this.#state.attempt,
        this.#waiters.length,
        { code: 'REMOUNT_CANCELLED', message: 'the agent stopped before this remount finished; the flag is kept and the next start remounts' },
        this.#flag?.reasons ?? [],
      );
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter.resolve(outcome);
    })();
    return this.#closing;
  }

  #apply(event: RemountPlanEvent): { coalesced?: boolean } {
    const step = planRemount(this.#state, event, this.#plan);
    this.#state = step.state;
    for (const action of step.actions) this.#act(action);
    return step;
  }

  #act(action: RemountPlanAction): void {
    switch (action.type) {
      case 'wait-until': {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#apply({ type: 'due', at: this.#now() });
        }, Math.max(0, action.at - this.#now()));
        return;
      }
      case 'start-attempt':
        this.#current = this.#attempt(action.run, action.attempt, action.coversUpTo).catch((cause: unknown) => {
          // Only a bug gets here; end the attempt anyway so the remounter is not stuck "running".
          this.#reportError(cause, 'a remount attempt failed unexpectedly');
          this.#current = undefined;
          this.#apply({ type: 'attempt-ended', at: this.#now(), ok: false, retryable: true });
        });
        return;
      case 'finish-run':
        this.#finish(action.run, action.ok, action.attempts, action.coversUpTo);
        return;
    }
  }

  /** One attempt: persist, run, verify, report, then tell the planner. Never rejects. */
  async #attempt(run: number, attempt: number, coversUpTo: number): Promise<void> {
    const startedAt = this.#now();
    if (attempt === 1) {
      this.#run = { startedAt, lastAttempt: undefined, error: undefined, findings: [] };
      this.#counters.runs++;
    }
    this.#counters.attempts++;
    if (this.#flag !== undefined) this.#flag = recordFlagAttempt(this.#flag, startedAt);
    this.#persist();
    let argv = remountArgv(this.#options.settings.command, this.#options.defaultHook ?? defaultRemountHook(), this.#options.mergedStoreDir);
    this.#emit({ type: 'remount-started', run, attempt, argv, requests: coversUpTo - this.#answeredUpTo + this.#restoredRequests });

    let error: WardenError | undefined;
    let retryable = true;
    let report: AttemptReport | undefined;
    try {
      argv = trustedRemountArgv(argv, this.#options.env?.['PATH'] ?? process.env['PATH']);
    } catch (cause) {
      // A missing or untrusted command will not fix itself: report at once, no retries.
      error = cause instanceof WardenError ? cause : new RemountError('REMOUNT_COMMAND_NOT_FOUND', messageOf(cause), { cause });
      retryable = false;
    }
    if (error === undefined) {
      const result = await this.#runCommand(argv);
      report = attemptReport(attempt, result);
      this.#run.lastAttempt = report;
      error = commandRunError(result);
      if (error === undefined) {
        this.#emit({ type: 'remount-succeeded', run, attempt, report });
        const verification = await runVerifier(this.#options.verifyAfterRemount, { timeoutMs: this.#options.settings.timeoutSeconds * 1000, signal: this.#abort.signal });
        if (this.#state.phase === 'closed') return;
        if ('fresh' in verification) {
          this.#run.findings = verification.findings;
          this.#emit({ type: 'remount-verified', run, attempt, fresh: verification.fresh, findings: verification.findings });
          if (!verification.fresh) {
            this.#counters.verifiedStale++;
            const errors = verification.findings.filter((f) => f.severity === 'error');
            error = new RemountError('REMOUNT_STILL_STALE', `the remount command succeeded, but the check afterwards still finds a problem${errors[0] === undefined ? '' : `: ${errors[0].message}`}`, {
              evidence: { findings: verification.findings.map((f) => f.id) },
              hint: errors[0]?.hint ?? 'see the findings; `overlay-warden check` shows them in full',
            });
          }
        } else {
          error = verification;
        }
      }
    }
    if (this.#state.phase === 'closed') return;
    const endedAt = this.#now();
    if (error !== undefined) {
      const report_ = errorReport(error);
      this.#run.error = report_;
      this.#counters.failures++;
      if (this.#flag !== undefined) this.#flag = recordFlagError(this.#flag, report_, endedAt);
      this.#persist();
      this.#emit({ type: 'remount-failed', run, attempt, error: report_, retryInMs: retryDelay(this.#state, retryable, this.#plan), report });
    } else {
      this.#run.error = undefined;
    }
    this.#current = undefined;
    this.#apply({ type: 'attempt-ended', at: endedAt, ok: error === undefined, retryable });
  }

  async #runCommand(argv: readonly string[]): Promise<CommandRun> {
    return runRemountCommand(argv, {
      timeoutMs: this.#options.settings.timeoutSeconds * 1000,
      killGraceMs: this.#options.killGraceMs ?? 5000,
      signal: this.#abort.signal,
      maxOutputBytes: this.#options.maxOutputBytes ?? 16 * 1024,
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
    });
  }

  #finish(run: number, ok: boolean, attempts: number, coversUpTo: number): void {
    const requests = coversUpTo - this.#answeredUpTo + this.#restoredRequests;
    const reasons = (this.#flag?.reasons ?? []).filter((r) => (r.ticket ?? 0) <= coversUpTo);
    if (ok) {
      this.#counters.remounted++;
      this.#flag = clearFlagThrough(this.#flag, coversUpTo, this.#state.lastTicket, this.#now());
      this.#persist();
    } else {
      this.#counters.gaveUp++;
      const error = this.#run.error ?? { code: 'REMOUNT_COMMAND_FAILED', message: 'the remount failed' };
      this.#emit({ type: 'remount-gave-up', run, attempts, error, requests });
    }
    const outcome = this.#outcome(ok ? 'remounted' : 'failed', run, attempts, requests, ok ? undefined : this.#run.error, reasons);
    this.#lastOutcome = outcome;
    this.#answeredUpTo = coversUpTo;
    this.#restoredRequests = 0;
    const answered = this.#waiters.filter((w) => w.ticket <= coversUpTo);
    this.#waiters = this.#waiters.filter((w) => w.ticket > coversUpTo);
    for (const waiter of answered) waiter.resolve(outcome);
  }

  #outcome(status: RemountOutcome['status'], run: number, attempts: number, requests: number, error: ErrorReport | undefined, reasons: readonly FlagReason[]): RemountOutcome {
    return Object.freeze({
      run,
      status,
      fresh: status === 'remounted',
      attempts,
      requests,
      reasons: reasons.slice(-5).map((r) => describeRemountRequest(r.request)),
      error,
      lastAttempt: this.#run.lastAttempt,
      findings: this.#run.findings,
      startedAt: isoOrUndefined(this.#run.startedAt),
      finishedAt: new Date(this.#now()).toISOString(),
    });
  }

  /** Writes the flag (or removes it when nothing is pending); a failure is reported, and the remount goes on. */
  #persist(): void {
    try {
      if (this.#flag === undefined) clearRemountNeeded(this.#flagFile);
      else writeRemountNeeded(this.#flagFile, this.#flag);
    } catch (cause) {
      this.#reportError(cause, 'the remount-needed flag could not be saved; a crash now would lose it');
    }
  }

  #reportError(cause: unknown, what: string): void {
    const error = cause instanceof WardenError ? cause : new RemountError('REMOUNT_INTERNAL', `${what}: ${messageOf(cause)}`, { cause });
    this.#options.logger?.error(what, { code: error.code, error: error.message, ...error.evidence });
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #emit(event: RemountEvent): void {
    const logger = this.#options.logger;
    if (logger !== undefined) {
      const { type, ...fields } = event;
      if (type === 'remount-gave-up') logger.error(`remount gave up: ${event.error.message}`, fields);
      else if (type === 'remount-failed') logger.warn(`remount attempt failed: ${event.error.message}`, { run: event.run, attempt: event.attempt, retryInMs: event.retryInMs, code: event.error.code });
      else if (type === 'remount-verified' && !event.fresh) logger.warn('remounted, but the view is still not fresh', { run: event.run, findings: event.findings.map((f) => f.id) });
      else if (type === 'remount-requested') logger.debug(`remount requested: ${describeRemountRequest(event.request)}`, { ticket: event.ticket, coalesced: event.coalesced });
      else logger.info(type, fields);
    }
    try {
      this.emit('event', event);
    } catch (cause) {
      // A listener's bug must not stop remounting.
      this.#options.logger?.error('a remount event listener threw', { event: event.type, error: messageOf(cause) });
    }
  }
}

function attemptReport(attempt: number, run: CommandRun): AttemptReport {
  return { attempt, argv: run.argv, exitCode: run.exitCode, signal: run.signal, timedOut: run.timedOut, durationMs: run.durationMs, stdout: run.stdout, stderr: run.stderr };
}

function errorReport(error: WardenError): ErrorReport {
  return error.hint === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, hint: error.hint };
}

/** Waits for `promise` at most `ms`, clearing the timer either way. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
