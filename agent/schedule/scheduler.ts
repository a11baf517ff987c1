/**
 * Scheduled work inside the agent, on one line of work so that audit and scrub take turns: an audit after lower-store
 * changes (debounced) and every so often; a scrub pass (verify in chunks, within a read and thread budget, its cursor
 * saved after each chunk) every so often. Each finished audit and pass is a `findings` event.
 */
import { performance } from 'node:perf_hooks';
import { openAuditDbs, runAudit, runVerify } from '../audit/index.ts';
import type { FindingsEvent } from '../agent-status.ts';
import type { ScheduleSettings } from '../config/index.ts';
import { messageOf, WardenError } from '../errors/index.ts';
import type { Finding } from '../findings/index.ts';
import type { Logger } from '../log/index.ts';
import { WorkerPool } from '../pool/index.ts';
import type { StoreLayout } from '../store/index.ts';
import type { DriftEvent } from '../watch/index.ts';
import { auditDueAt } from './audit-timing.ts';
import { nextWork } from './next-work.ts';
import { ReadBudget, SYSTEM_CLOCK, type Clock } from './read-budget.ts';
import { advancePass, chunkLimitsFor, passEtaMs, readChunk, toLowerLayer, type ChunkLimits } from './scrub-chunk.ts';
import { freshScrubState, loadScrubState, saveScrubState, scrubStateFileOf, type ScrubPass, type ScrubState } from './scrub-state.ts';
import type { AuditOutcome, ScheduleStatus } from './schedule-status.ts';

/** Drift that changes what an audit would find: the lower store and its DB. */
const LOWER_CHANGES: ReadonlySet<DriftEvent['type']> = new Set(['lower-grew', 'lower-shrank', 'lower-path-modified', 'lower-db-replaced', 'lower-db-modified']);

/** How long a failed scrub chunk waits before it is tried again. */
export const SCRUB_RETRY_MS = 60_000;

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
  readonly #budget: ReadBudget;
  readonly #limits: ChunkLimits;
  readonly #stateFile: string;
  readonly #onDrift = (event: DriftEvent): void => this.#drift(event);
  #state: ScrubState;
  #pendingSince: number | undefined;
  #lastDriftAt: number | undefined;
  #lastAuditAt: number;
  #wallOffset: number | undefined;
  #auditRunning = false;
  #auditRuns = 0;
  #lastAudit: AuditOutcome | undefined;
  #scrubRunning = false;
  #retryAt: number | undefined;
  #lastError: string | undefined;
  #passIntegrityChecked = false;
  #pool: WorkerPool | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#now = options.wallClock ?? (() => new Date());
    const mbps = options.settings.scrub.maxReadMBps;
    const bytesPerSecond = mbps === 'off' ? undefined : mbps * 1e6;
    this.#budget = new ReadBudget({ bytesPerSecond, clock: this.#clock });
    this.#limits = options.chunkLimits ?? chunkLimitsFor(bytesPerSecond);
    this.#stateFile = scrubStateFileOf(options.stateDir);
    this.#lastAuditAt = this.#clock.now();
    // Read (and a fresh one saved) by start(): the agent checks its state dir before it starts the scheduler.
    this.#state = freshScrubState(this.#now());
  }

  /** Reads the scrub state, subscribes to drift and starts the line of work. Idempotent; nothing after close(). */
  start(): void {
    if (this.#loop !== undefined || this.#closing !== undefined) return;
    this.#state = this.#loadState();
    this.#lastAuditAt = this.#clock.now();
    this.#o.host.on('drift', this.#onDrift);
    const pass = this.#state.pass;
    if (pass !== undefined && this.#o.settings.scrub.every !== 'off')
      this.#o.logger.info(`scrub pass resumes at path ${pass.pathsDone} of ${pass.pathsTotal} (${pass.layer} DB, after id ${pass.afterId})`, {
        schedule: 'scrub-resumed',
        ...pass,
        findings: pass.findings.length,
      });
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
      await this.#closePool();
    })();
    return this.#closing;
  }

  /** The `schedule` section of status. */
  status(): ScheduleStatus {
    const { audit, scrub } = this.#o.settings;
    const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : this.#isoAt(t));
    const pass = this.#state.pass;
    const eta = pass === undefined ? undefined : passEtaMs(pass);
    const stats = this.#pool?.stats();
    const budget = this.#budget.stats();
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
      scrub: {
        state: scrub.every === 'off' ? 'off' : budget.waiting ? 'waiting' : this.#scrubRunning ? 'running' : this.#retryAt !== undefined ? 'retrying' : 'idle',
        everyMs: scrub.every,
        layers: scrub.layers,
        maxReadMBps: scrub.maxReadMBps,
        threads: scrub.threads,
        nextAt: iso(this.#scrubDue(this.#clock.now())),
        pass:
          pass === undefined
            ? undefined
            : {
                startedAt: pass.startedAt,
                layer: pass.layer,
                pathsDone: pass.pathsDone,
                pathsTotal: pass.pathsTotal,
                bytes: pass.bytes,
                findings: pass.findings.length + pass.findingsDropped,
                eta: eta === undefined ? undefined : new Date(this.#now().getTime() + eta).toISOString(),
              },
        lastCompleted: this.#state.lastCompleted,
        lastError: this.#lastError,
        budget: { grantedBytes: budget.grantedBytes, waitedMs: Math.round(budget.waitedMs) },
      },
      pool:
        stats === undefined || stats.closed
          ? { threads: 0, busy: 0, queued: 0 }
          : { threads: stats.threads, busy: stats.inFlight - stats.queued, queued: stats.queued },
    };
  }

  #drift(event: DriftEvent): void {
    if (!LOWER_CHANGES.has(event.type)) return;
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

  /** When the next chunk is due: now during a pass (or at the retry time), else `every` after the last pass (or the first start). */
  #scrubDue(now: number): number | undefined {
    const { every } = this.#o.settings.scrub;
    if (every === 'off') return undefined;
    // After a failure (a chunk, or starting a pass), nothing is tried again before the retry time.
    if (this.#retryAt !== undefined) return this.#retryAt;
    if (this.#state.pass !== undefined) return now;
    const since = Date.parse(this.#state.lastCompleted?.at ?? this.#state.firstSeenAt);
    // Wall-clock time of the last pass, mapped onto the monotonic clock.
    return now + (since + every - this.#now().getTime());
  }

  #isoAt(t: number): string {
    // One offset between the monotonic clock and the wall clock, taken once: computed per call, the same instant
    // would come out a millisecond apart in two status answers (HTTP /status and the control socket's).
    this.#wallOffset ??= this.#now().getTime() - this.#clock.now();
    return new Date(Math.round(this.#wallOffset + t)).toISOString();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const now = this.#clock.now();
      const next = nextWork(now, this.#auditDue(), this.#scrubDue(now));
      if (next.kind === 'audit') await this.#audit();
      else if (next.kind === 'scrub') await this.#scrubStep();
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
        seconds: round(seconds),
      });
      this.#emitFindings('audit', at, report.findings);
      this.#o.observer?.taskDone?.('audit', seconds);
      this.#o.observer?.completed?.('audit', at);
    } catch (error) {
      if (signal.aborted) return;
      const seconds = (performance.now() - started) / 1000;
      this.#lastAudit = { at: this.#now().toISOString(), reason, seconds, findings: 0, errors: 0, error: messageOf(error) };
      this.#auditRuns++;
      this.#logError('scheduled audit failed', error);
    } finally {
      this.#auditRunning = false;
      this.#lastAuditAt = this.#clock.now();
    }
  }

  /** One chunk of the scrub pass (starting a pass first when none is under way). */
  async #scrubStep(): Promise<void> {
    const signal = this.#abort.signal;
    this.#scrubRunning = true;
    this.#retryAt = undefined;
    const started = this.#clock.now();
    try {
      const pass = this.#state.pass ?? this.#startPass();
      const dbs = openAuditDbs(this.#o.layout);
      let chunk;
      try {
        chunk = readChunk(pass.layer === 'upper' ? dbs.upper : dbs.lower, pass.afterId, this.#limits);
      } finally {
        dbs.close();
      }
      if (chunk === undefined) {
        if (pass.layer === 'upper' && pass.layers === 'both') this.#save({ ...this.#state, pass: toLowerLayer(pass) });
        else this.#completePass(pass);
        return;
      }
      await this.#budget.take(chunk.bytes, signal);
      const pool = (this.#pool ??= new WorkerPool({ maxThreads: this.#o.settings.scrub.threads }));
      const chunkStarted = performance.now();
      const report = await runVerify({
        layout: this.#o.layout,
        signal,
        pool,
        scope: 'upper',
        paths: chunk.paths,
        concurrency: 2 * pool.size,
        integrityChecks: !this.#passIntegrityChecked,
      });
      if (report.partial) return;
      this.#passIntegrityChecked = true;
      const findings = report.findings;
      this.#save({
        ...this.#state,
        pass: advancePass(pass, { lastId: chunk.lastId, paths: chunk.paths.length, bytes: report.bytes, ms: this.#clock.now() - started, findings }),
      });
      this.#lastError = undefined;
      this.#o.logger.debug(`scrub chunk done: ${chunk.paths.length} paths, ${report.bytes} bytes`, {
        schedule: 'scrub-chunk',
        layer: pass.layer,
        afterId: chunk.lastId,
        pathsDone: this.#state.pass?.pathsDone,
        findings: findings.length,
      });
      this.#o.observer?.taskDone?.('scrub', (performance.now() - chunkStarted) / 1000);
      this.#o.observer?.bytesHashed?.(report.bytes);
      this.#o.observer?.pathsVerified?.(chunk.paths.length);
    } catch (error) {
      if (signal.aborted) return;
      const retryMs = this.#o.retryMs ?? SCRUB_RETRY_MS;
      this.#retryAt = this.#clock.now() + retryMs;
      this.#lastError = messageOf(error);
      this.#logError(`scrub chunk failed; trying it again in ${Math.round(retryMs / 1000)} s (the cursor stays)`, error);
    } finally {
      this.#scrubRunning = false;
    }
  }

  #startPass(): ScrubPass {
    const { layers } = this.#o.settings.scrub;
    const dbs = openAuditDbs(this.#o.layout);
    let pathsTotal: number;
    try {
      pathsTotal = dbs.upper.countValidPaths() + (layers === 'both' ? dbs.lower.countValidPaths() : 0);
    } finally {
      dbs.close();
    }
    const pass: ScrubPass = {
      startedAt: this.#now().toISOString(),
      layers,
      layer: 'upper',
      afterId: 0,
      pathsDone: 0,
      pathsTotal,
      bytes: 0,
      activeMs: 0,
      findings: [],
      findingsDropped: 0,
    };
    this.#passIntegrityChecked = false;
    this.#o.logger.info(`scrub pass started: ${pathsTotal} paths (${layers === 'both' ? 'upper and lower DBs' : 'upper DB'})`, {
      schedule: 'scrub-started',
      pathsTotal,
      layers,
    });
    this.#save({ ...this.#state, pass });
    return pass;
  }

  #completePass(pass: ScrubPass): void {
    const at = this.#now();
    const findings = pass.findings.length + pass.findingsDropped;
    this.#save({
      ...this.#state,
      pass: undefined,
      lastCompleted: { at: at.toISOString(), startedAt: pass.startedAt, paths: pass.pathsDone, bytes: pass.bytes, findings },
    });
    const errors = pass.findings.filter((f) => f.severity === 'error').length;
    this.#o.logger[errors > 0 ? 'warn' : 'info'](`scrub pass completed: ${pass.pathsDone} paths, ${pass.bytes} bytes; ${describeFindings(pass.findings)}`, {
      schedule: 'scrub-done',
      paths: pass.pathsDone,
      bytes: pass.bytes,
      findings,
      errors,
      ids: idsOf(pass.findings),
      startedAt: pass.startedAt,
    });
    this.#emitFindings('scrub', at, pass.findings);
    this.#o.observer?.completed?.('scrub', at);
    void this.#closePool();
  }

  #emitFindings(source: 'audit' | 'scrub', at: Date, findings: readonly Finding[]): void {
    this.#o.host.emit('findings', { source, at: at.toISOString(), findings });
  }

  async #closePool(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }

  /** Loads scrub.json; a corrupt one is logged and replaced by a fresh state (it is only a cursor: the pass restarts). */
  #loadState(): ScrubState {
    let state: ScrubState | undefined;
    try {
      state = loadScrubState(this.#stateFile);
    } catch (error) {
      this.#logError('the scrub state cannot be read; starting the scrub afresh', error);
    }
    if (state?.pass !== undefined && state.pass.layers !== this.#o.settings.scrub.layers) {
      this.#o.logger.info('scrub.layers changed since the pass under way started: a new pass starts', { schedule: 'scrub-restarted', was: state.pass.layers });
      state = { ...state, pass: undefined };
    }
    if (state === undefined) {
      state = freshScrubState(this.#now());
      this.#save(state);
    }
    return state;
  }

  /** Keeps `state` and saves it; a failed save is logged (the next chunk saves again), never thrown. */
  #save(state: ScrubState): void {
    this.#state = state;
    try {
      saveScrubState(this.#stateFile, state);
    } catch (error) {
      this.#logError('cannot save the scrub cursor', error);
    }
  }

  #logError(what: string, error: unknown): void {
    const e = error instanceof WardenError ? error : undefined;
    this.#o.logger.error(`${what}: ${messageOf(error)}`, { code: e?.code, hint: e?.hint, ...e?.evidence });
  }
}

function idsOf(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => f.id))];
}

/** `no findings`, or `N findings (E errors): ids`. */
function describeFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings';
  const errors = findings.filter((f) => f.severity === 'error').length;
  return `${findings.length} finding${findings.length === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}): ${idsOf(findings).join(', ')}`;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
