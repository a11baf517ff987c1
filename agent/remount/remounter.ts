/** The only part of the agent that remounts: takes requests, persists the flag, runs the command as the planner says, verifies. */
import { EventEmitter } from 'node:events';
import { isAbsolute } from 'node:path';
import type { ConfigSettings } from '../config/index.ts';
import { WardenError, messageOf } from '../errors/index.ts';
import { defaultRemountHook } from './hook-paths.ts';
import { PersistedFlag } from './persisted-flag.ts';
import { errorReport, runTrustedCommand, verificationError, type CommandAttempt } from './remount-attempt.ts';
import { remountArgv } from './remount-command.ts';
import { RemountError } from './remount-errors.ts';
import { ZERO_REMOUNT_COUNTERS, type RemountCounters, type RemountEvent, type RemountOutcome, type RemountVerifier } from './remount-events.ts';
import type { RemountNeeded } from './remount-needed.ts';
import type { RemountPlanState } from './remount-plan.ts';
import type { RemountRequest } from './remount-request.ts';
import { RemountScheduler } from './remount-scheduler.ts';
import { RemountWaiters } from './remount-waiters.ts';
import { emptyRunRecord, runOutcome, type RunRecord } from './run-outcome.ts';
import { runVerifier } from './run-verifier.ts';

/** The `remount` section of the configuration. */
export type RemountSettings = ConfigSettings['remount'];

export interface RemounterOptions {
  /** The overlay mount point, passed as the command's last argument. */
  readonly mergedStoreDir: string;
  /** Where `remount-needed.json` lives. */
  readonly stateDir: string;
  readonly settings: RemountSettings;
  /** Re-runs the mount check and the probe after a successful command, on the requests the run answers. */
  readonly verifyAfterRemount: RemountVerifier;
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
  readonly #scheduler: RemountScheduler;
  readonly #flag: PersistedFlag;
  readonly #waiters = new RemountWaiters();
  readonly #now: () => number;
  readonly #abort = new AbortController();
  #current: Promise<void> | undefined;
  #run: RunRecord = emptyRunRecord();
  #counters: { -readonly [K in keyof RemountCounters]: number } = { ...ZERO_REMOUNT_COUNTERS };
  #lastOutcome: RemountOutcome | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RemounterOptions) {
    super();
    if (!isAbsolute(options.mergedStoreDir)) throw new TypeError(`mergedStoreDir must be an absolute path, got ${JSON.stringify(options.mergedStoreDir)}`);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const { coalesceMs, attempts, backoffSeconds } = options.settings;
    this.#scheduler = new RemountScheduler({ coalesceMs, attempts, backoffMs: backoffSeconds * 1000 }, this.#now, {
      startAttempt: (run, attempt, coversUpTo) => this.#startAttempt(run, attempt, coversUpTo),
      finishRun: (run, ok, attemptsMade, coversUpTo) => this.#finish(run, ok, attemptsMade, coversUpTo),
    });
    this.#flag = new PersistedFlag(options.stateDir, (cause, what) => this.#reportError(cause, what));
  }

  /**
   * Picks up a flag persisted by an earlier process (crash, restart) and
   * schedules the remount it asked for. A flag file that cannot be read or
   * parsed counts as pending (a needless remount is harmless; a lost one is
   * not) and is reported on `error`. Returns the restored flag and the outcome
   * of the run that answers it, or undefined when nothing was pending.
   */
  start(): RestoredRemount | undefined {
    const restored = this.#flag.readLeftover(this.#now());
    if (restored === undefined || this.#scheduler.state.phase === 'closed') return undefined;
    this.#flag.restore(restored);
    const outcome = this.#waiters.waitRestored(restored.requests);
    this.#scheduler.apply({ type: 'flag', at: this.#now(), ticket: 0 });
    return { flag: restored, outcome };
  }

  /**
   * Flags a remount. Resolves with the outcome of the run that covers this
   * request (never rejects while open); rejects with RemountError
   * REMOUNTER_CLOSED after `close()`. The flag is persisted before this returns.
   */
  request(request: RemountRequest): Promise<RemountOutcome> {
    if (this.#scheduler.state.phase === 'closed') {
      return Promise.reject(new RemountError('REMOUNTER_CLOSED', 'the remounter is closed (the agent is stopping)', { evidence: { request } }));
    }
    const at = this.#now();
    const ticket = this.#scheduler.state.lastTicket + 1;
    this.#flag.add(request, at, ticket);
    const outcome = this.#waiters.wait(ticket);
    const step = this.#scheduler.apply({ type: 'flag', at, ticket });
    this.#counters.requests++;
    if (step.coalesced === true) this.#counters.coalesced++;
    this.#emit({ type: 'remount-requested', request, ticket, coalesced: step.coalesced === true });
    return outcome;
  }

  /** A snapshot of the scheduler, the pending flag and the counters. */
  status(): RemounterStatus {
    const { phase, run, attempt } = this.#scheduler.state;
    return { phase, run, attempt, pending: this.#flag.current, counters: this.counters, lastOutcome: this.#lastOutcome };
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
      this.#scheduler.close();
      this.#abort.abort(new RemountError('REMOUNT_CANCELLED', 'the remounter is closing'));
      if (this.#current !== undefined) await settleWithin(this.#current, graceMs);
      const { run, attempt } = this.#scheduler.state;
      const error = { code: 'REMOUNT_CANCELLED', message: 'the agent stopped before this remount finished; the flag is kept and the next start remounts' };
      const reasons = this.#flag.current?.reasons ?? [];
      this.#waiters.answerAll(
        runOutcome(this.#run, { status: 'cancelled', run, attempts: attempt, requests: this.#waiters.size, error, reasons, finishedAt: this.#now() }),
      );
    })();
    return this.#closing;
  }

  #startAttempt(run: number, attempt: number, coversUpTo: number): void {
    this.#current = this.#attempt(run, attempt, coversUpTo).catch((cause: unknown) => {
      // Only a bug gets here; end the attempt anyway so the remounter is not stuck "running".
      this.#reportError(cause, 'a remount attempt failed unexpectedly');
      this.#current = undefined;
      this.#scheduler.apply({ type: 'attempt-ended', at: this.#now(), ok: false, retryable: true });
    });
  }

  /** One attempt: persist, run, verify, report, then tell the planner. Never rejects. */
  async #attempt(run: number, attempt: number, coversUpTo: number): Promise<void> {
    const startedAt = this.#now();
    if (attempt === 1) {
      this.#run = emptyRunRecord(startedAt);
      this.#counters.runs++;
    }
    this.#counters.attempts++;
    this.#flag.recordAttempt(startedAt);
    const argv = remountArgv(this.#options.settings.command, this.#options.defaultHook ?? defaultRemountHook(), this.#options.mergedStoreDir);
    this.#emit({ type: 'remount-started', run, attempt, argv, requests: this.#waiters.answering(coversUpTo) });

    const timeoutMs = this.#options.settings.timeoutSeconds * 1000;
    const command = await runTrustedCommand(attempt, argv, this.#options.env?.['PATH'] ?? process.env['PATH'], {
      timeoutMs,
      killGraceMs: this.#options.killGraceMs ?? 5000,
      signal: this.#abort.signal,
      maxOutputBytes: this.#options.maxOutputBytes ?? 16 * 1024,
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
      stateDir: this.#options.stateDir,
    });
    try {
      await this.#conclude(run, attempt, coversUpTo, timeoutMs, command);
    } finally {
      command.lock?.release();
    }
  }

  /** Checks the view after a command that succeeded, reports the attempt, then tells the planner. Holds the command's lock until then. */
  async #conclude(run: number, attempt: number, coversUpTo: number, timeoutMs: number, command: CommandAttempt): Promise<void> {
    const { report, retryable } = command;
    let error = command.error;
    if (report !== undefined) this.#run.lastAttempt = report;
    if (report !== undefined && error === undefined) {
      this.#emit({ type: 'remount-succeeded', run, attempt, report });
      const requests = this.#flag.reasonsThrough(coversUpTo).map((r) => r.request);
      const verification = await runVerifier(this.#options.verifyAfterRemount, requests, { timeoutMs, signal: this.#abort.signal });
      if (this.#scheduler.state.phase === 'closed') return;
      if ('fresh' in verification) {
        this.#run.findings = verification.findings;
        this.#emit({ type: 'remount-verified', run, attempt, fresh: verification.fresh, findings: verification.findings });
        if (!verification.fresh) this.#counters.verifiedStale++;
      }
      error = verificationError(verification);
    }
    if (this.#scheduler.state.phase === 'closed') return;
    const endedAt = this.#now();
    this.#run.error = error === undefined ? undefined : errorReport(error);
    if (this.#run.error !== undefined) {
      this.#counters.failures++;
      this.#flag.recordError(this.#run.error, endedAt);
      this.#emit({ type: 'remount-failed', run, attempt, error: this.#run.error, retryInMs: this.#scheduler.retryDelay(retryable), report });
    }
    // Held through the check, so that it saw this remount and no other; let go before the next attempt may start.
    command.lock?.release();
    this.#current = undefined;
    this.#scheduler.apply({ type: 'attempt-ended', at: endedAt, ok: error === undefined, retryable });
  }

  #finish(run: number, ok: boolean, attempts: number, coversUpTo: number): void {
    const requests = this.#waiters.answering(coversUpTo);
    const reasons = this.#flag.reasonsThrough(coversUpTo);
    if (ok) {
      this.#counters.remounted++;
      this.#flag.clearThrough(coversUpTo, this.#scheduler.state.lastTicket, this.#now());
    } else {
      this.#counters.gaveUp++;
      const error = this.#run.error ?? { code: 'REMOUNT_COMMAND_FAILED', message: 'the remount failed' };
      this.#emit({ type: 'remount-gave-up', run, attempts, error, requests });
    }
    const outcome = runOutcome(this.#run, {
      status: ok ? 'remounted' : 'failed',
      run,
      attempts,
      requests,
      error: ok ? undefined : this.#run.error,
      reasons,
      finishedAt: this.#now(),
    });
    this.#lastOutcome = outcome;
    this.#waiters.answer(coversUpTo, outcome);
  }

  /** Reports an unexpected problem on `error` (the agent logs it); remounting goes on. */
  #reportError(cause: unknown, what: string): void {
    const error = cause instanceof WardenError ? cause : new RemountError('REMOUNT_INTERNAL', `${what}: ${messageOf(cause)}`, { cause });
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #emit(event: RemountEvent): void {
    try {
      this.emit('event', event);
    } catch (cause) {
      // A listener's bug must not stop remounting.
      this.#reportError(cause, `a listener of the ${event.type} event threw`);
    }
  }
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
