/**
 * Scheduled work inside the agent, on one line of work so that audit and scrub take turns: an audit after lower-store
 * changes (debounced) and every so often; a scrub pass (verify in chunks, within a read and thread budget, its cursor
 * saved after each chunk) every so often. Each finished audit and pass is a `findings` event.
 */
import { performance } from 'node:perf_hooks';
import { runAudit } from '../audit/index.ts';
import type { FindingsEvent } from '../agent-status.ts';
import type { ScheduleSettings } from '../config/index.ts';
import { messageOf } from '../errors/index.ts';
import type { Finding } from '../findings/index.ts';
import type { Logger } from '../log/index.ts';
import type { StoreLayout } from '../store/index.ts';
import { isLowerStoreDrift, type DriftEvent } from '../watch/index.ts';
import { auditDueAt } from './audit-timing.ts';
import { nextWork } from './next-work.ts';
import { SYSTEM_CLOCK, type Clock } from './read-budget.ts';
import { describeFindings, idsOf, logScheduleError, roundSeconds } from './schedule-log.ts';
import type { AuditOutcome, ScheduleStatus } from './schedule-status.ts';
import type { ChunkLimits } from './scrub-chunk.ts';
import { ScrubPassRunner } from './scrub-pass-runner.ts';

export { SCRUB_RETRY_MS } from './scrub-pass-runner.ts';

/** Hooks for metrics (the contract with the metrics branch): each called as the work happens. */
export interface ScheduleObserver {
  taskDone?(kind: 'audit' | 'scrub', seconds: number): void;
  bytesHashed?(bytes: number): void;
  pathsVerified?(count: number): void;
  completed?(kind: 'audit' | 'scrub', at: Date): void;
}

/** What the scheduler needs of the agent: its drift events in, findings events out (the Agent is one). */
export interface ScheduleHost {
  on(event: 'drift', listener: (event: DriftEvent) => void): unknown;
  off(event: 'drift', listener: (event: DriftEvent) => void): unknown;
  emit(event: 'findings', findings: FindingsEvent): unknown;
}

export interface SchedulerOptions {
  readonly host: ScheduleHost;
  readonly layout: StoreLayout;
  /** The agent's state dir (scrub.json lives there). */
  readonly stateDir: string;
  readonly settings: ScheduleSettings;
  readonly logger: Logger;
  readonly observer?: ScheduleObserver | undefined;
  /** Monotonic time and sleeps (tests inject one). Default: the process's. */
  readonly clock?: Clock;
  /** Wall-clock time for timestamps. Default: `new Date()`. */
  readonly wallClock?: () => Date;
  /** Chunk limits (tests make chunks small). Default: chunkLimitsFor the read budget. */
  readonly chunkLimits?: ChunkLimits;
  readonly retryMs?: number;
}

/** The scheduler of one agent run: `start()` begins its line of work, `close()` stops it (a chunk under way is dropped, its cursor kept). */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #clock: Clock;
  readonly #now: () => Date;
  readonly #abort = new AbortController();
  readonly #scrub: ScrubPassRunner;
  readonly #onDrift = (event: DriftEvent): void => this.#drift(event);
  #pendingSince: number | undefined;
  #lastDriftAt: number | undefined;
  #lastAuditAt: number;
  #wallOffset: number | undefined;
  #auditRunning = false;
  #auditRuns = 0;
  #lastAudit: AuditOutcome | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#now = options.wallClock ?? (() => new Date());
    this.#scrub = new ScrubPassRunner({
      layout: options.layout,
      stateDir: options.stateDir,
      settings: options.settings,
      logger: options.logger,
      observer: options.observer,
      clock: this.#clock,
      wallClock: this.#now,
      onFindings: (at, findings) => this.#emitFindings('scrub', at, findings),
      chunkLimits: options.chunkLimits,
      retryMs: options.retryMs,
    });
    this.#lastAuditAt = this.#clock.now();
  }

  /** Reads the scrub state, subscribes to drift and starts the line of work. Idempotent; nothing after close(). */
  start(): void {
    if (this.#loop !== undefined || this.#closing !== undefined) return;
    this.#scrub.load();
    this.#lastAuditAt = this.#clock.now();
    this.#o.host.on('drift', this.#onDrift);
    this.#loop = this.#run().catch((error: unknown) => {
      if (!this.#abort.signal.aborted) this.#o.logger.error(`scheduled work stopped: ${messageOf(error)}`, { schedule: 'failed' });
    });
  }

  /** Stops: the running audit or chunk is interrupted (a chunk's cursor stays where the last whole chunk left it). Idempotent, never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#o.host.off('drift', this.#onDrift);
      this.#abort.abort(new Error('agent stopping'));
      this.#wake?.();
      await this.#loop;
      await this.#scrub.closePool();
    })();
    return this.#closing;
  }

  /** The `schedule` section of status. */
  status(): ScheduleStatus {
    const { audit } = this.#o.settings;
    const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(this.#wallAt(t)).toISOString());
    return {
      audit: {
        state: this.#auditRunning ? 'running' : this.#pendingSince !== undefined ? 'pending' : 'idle',
        afterDrift: audit.afterDrift === 'off' ? 'off' : { settleMs: audit.afterDrift, maxDelayMs: audit.maxDelay },
        everyMs: audit.every,
        nextAt: iso(this.#auditDue()),
        pendingSince: iso(this.#pendingSince),
        runs: this.#auditRuns,
        last: this.#lastAudit,
      },
      ...this.#scrub.status(this.#isoOfWall(this.#scrub.dueAtWall(this.#clock.now(), (t) => this.#wallAt(t)))),
    };
  }

  #drift(event: DriftEvent): void {
    if (!isLowerStoreDrift(event.type)) return;
    const now = this.#clock.now();
    this.#pendingSince ??= now;
    this.#lastDriftAt = now;
    this.#wake?.();
  }

  #auditDue(): number | undefined {
    const { audit } = this.#o.settings;
    return auditDueAt(
      { pendingSince: this.#pendingSince, lastDriftAt: this.#lastDriftAt, lastAuditAt: this.#lastAuditAt },
      { afterDrift: audit.afterDrift === 'off' ? 'off' : { settle: audit.afterDrift, maxDelay: audit.maxDelay }, every: audit.every },
    );
  }

  /** The wall-clock time (ms since the epoch) of monotonic time `t`. */
  #wallAt(t: number): number {
    // One offset between the monotonic clock and the wall clock, taken once: computed per call, the same instant
    // would come out a millisecond apart in two status answers (HTTP /status and the control socket's).
    this.#wallOffset ??= this.#now().getTime() - this.#clock.now();
    return Math.round(this.#wallOffset + t);
  }

  #isoOfWall(t: number | undefined): string | undefined {
    return t === undefined ? undefined : new Date(t).toISOString();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const now = this.#clock.now();
      const next = nextWork(now, this.#auditDue(), this.#scrub.dueAt(now));
      if (next.kind === 'audit') await this.#audit();
      else if (next.kind === 'scrub') await this.#scrub.step(signal);
      else await this.#sleep(next.until === undefined ? undefined : next.until - now);
    }
  }

  /** Sleeps `ms` (or until woken: a drift event, close), never rejecting. */
  async #sleep(ms: number | undefined): Promise<void> {
    const woken = new AbortController();
    this.#wake = () => woken.abort();
    const signal = AbortSignal.any([woken.signal, this.#abort.signal]);
    try {
      if (ms === undefined)
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      else await this.#clock.sleep(Math.min(ms, 2 ** 31 - 1), signal).catch(() => undefined);
    } finally {
      this.#wake = undefined;
    }
  }

  async #audit(): Promise<void> {
    const signal = this.#abort.signal;
    const reason = this.#pendingSince !== undefined ? 'drift' : 'every';
    // Changes from here on need another audit: this one may already have read past them.
    this.#pendingSince = undefined;
    this.#lastDriftAt = undefined;
    this.#auditRunning = true;
    const started = performance.now();
    try {
      const report = await runAudit({ layout: this.#o.layout, signal });
      if (report.partial) return;
      const at = this.#now();
      const errors = report.findings.filter((f) => f.severity === 'error').length;
      const seconds = (performance.now() - started) / 1000;
      this.#lastAudit = { at: at.toISOString(), reason, seconds, findings: report.findings.length, errors, error: undefined };
      this.#auditRuns++;
      this.#o.logger[errors > 0 ? 'warn' : 'info'](`scheduled audit (${reason}): ${describeFindings(report.findings)}`, {
        schedule: 'audit-done',
        reason,
        findings: report.findings.length,
        errors,
        ids: idsOf(report.findings),
        seconds: roundSeconds(seconds),
      });
      this.#emitFindings('audit', at, report.findings);
      this.#o.observer?.taskDone?.('audit', seconds);
      this.#o.observer?.completed?.('audit', at);
    } catch (error) {
      if (signal.aborted) return;
      const seconds = (performance.now() - started) / 1000;
      this.#lastAudit = { at: this.#now().toISOString(), reason, seconds, findings: 0, errors: 0, error: messageOf(error) };
      this.#auditRuns++;
      logScheduleError(this.#o.logger, 'scheduled audit failed', error);
    } finally {
      this.#auditRunning = false;
      this.#lastAuditAt = this.#clock.now();
    }
  }

  #emitFindings(source: 'audit' | 'scrub', at: Date, findings: readonly Finding[]): void {
    this.#o.host.emit('findings', { source, at: at.toISOString(), findings });
  }
}
