/**
 * The scrub side of scheduled work: one pass over the upper (and maybe lower) DB verified a chunk at a time, within the
 * read budget and on a worker pool, its cursor saved to scrub.json after each chunk so that a restart resumes there.
 */
import { performance } from 'node:perf_hooks';
import { runVerify } from '../audit/index.ts';
import type { ScheduleSettings } from '../config/index.ts';
import { messageOf } from '../errors/index.ts';
import type { Finding } from '../findings/index.ts';
import type { Logger } from '../log/index.ts';
import { WorkerPool } from '../pool/index.ts';
import type { StoreLayout } from '../store/index.ts';
import { ReadBudget, type Clock } from './read-budget.ts';
import { describeFindings, idsOf, logScheduleError } from './schedule-log.ts';
import type { ScheduleStatus } from './schedule-status.ts';
import type { ScheduleObserver } from './scheduler.ts';
import { advancePass, chunkLimitsFor, passEtaMs, toLowerLayer, type ChunkLimits } from './scrub-chunk.ts';
import { ScrubChunkSource } from './scrub-chunk-source.ts';
import { freshScrubState, loadScrubState, saveScrubState, scrubStateFileOf, type ScrubPass, type ScrubState } from './scrub-state.ts';

/** How long a failed scrub chunk waits before it is tried again. */
export const SCRUB_RETRY_MS = 60_000;

export interface ScrubPassRunnerOptions {
  readonly layout: StoreLayout;
  /** The agent's state dir (scrub.json lives there). */
  readonly stateDir: string;
  readonly settings: ScheduleSettings;
  readonly logger: Logger;
  readonly observer?: ScheduleObserver | undefined;
  readonly clock: Clock;
  readonly wallClock: () => Date;
  /** Called with a completed pass's findings. */
  readonly onFindings: (at: Date, findings: readonly Finding[]) => void;
  /** Chunk limits (tests make chunks small). Default: chunkLimitsFor the read budget. */
  readonly chunkLimits?: ChunkLimits | undefined;
  readonly retryMs?: number | undefined;
}

/** The scrub's state and its work for one Scheduler: `load()` once, then `step()` whenever `dueAt()` says so. */
export class ScrubPassRunner {
  readonly #o: ScrubPassRunnerOptions;
  readonly #budget: ReadBudget;
  readonly #limits: ChunkLimits;
  readonly #stateFile: string;
  #state: ScrubState;
  #running = false;
  #retryAt: number | undefined;
  #lastError: string | undefined;
  #passIntegrityChecked = false;
  #pool: WorkerPool | undefined;
  readonly #chunks: ScrubChunkSource;

  constructor(options: ScrubPassRunnerOptions) {
    this.#o = options;
    const mbps = options.settings.scrub.maxReadMBps;
    const bytesPerSecond = mbps === 'off' ? undefined : mbps * 1e6;
    this.#budget = new ReadBudget({ bytesPerSecond, clock: options.clock });
    this.#limits = options.chunkLimits ?? chunkLimitsFor(bytesPerSecond);
    this.#chunks = new ScrubChunkSource(options.layout, this.#limits);
    this.#stateFile = scrubStateFileOf(options.stateDir);
    // Read (and a fresh one saved) by load(): the agent checks its state dir before it starts the scheduler.
    this.#state = freshScrubState(options.wallClock());
  }

  /** Loads scrub.json (a corrupt one is logged and replaced by a fresh state: it is only a cursor, the pass restarts) and logs a pass that resumes. */
  load(): void {
    let state: ScrubState | undefined;
    try {
      state = loadScrubState(this.#stateFile);
    } catch (error) {
      logScheduleError(this.#o.logger, 'the scrub state cannot be read; starting the scrub afresh', error);
    }
    if (state?.pass !== undefined && state.pass.layers !== this.#o.settings.scrub.layers) {
      this.#o.logger.info('scrub.layers changed since the pass under way started: a new pass starts', { schedule: 'scrub-restarted', was: state.pass.layers });
      state = { ...state, pass: undefined };
    }
    if (state === undefined) {
      state = freshScrubState(this.#o.wallClock());
      this.#save(state);
    }
    this.#state = state;
    const pass = state.pass;
    if (pass !== undefined && this.#o.settings.scrub.every !== 'off')
      this.#o.logger.info(`scrub pass resumes at path ${pass.pathsDone} of ${pass.pathsTotal} (${pass.layer} DB, after id ${pass.afterId})`, {
        schedule: 'scrub-resumed',
        ...pass,
        findings: pass.findings.length,
      });
  }

  /** When the next chunk is due: now during a pass (or at the retry time), else `every` after the last pass (or the first start). */
  dueAt(now: number): number | undefined {
    const { every } = this.#o.settings.scrub;
    if (every === 'off') return undefined;
    // After a failure (a chunk, or starting a pass), nothing is tried again before the retry time.
    if (this.#retryAt !== undefined) return this.#retryAt;
    if (this.#state.pass !== undefined) return now;
    const since = Date.parse(this.#state.lastCompleted?.at ?? this.#state.firstSeenAt);
    // Wall-clock time of the last pass, mapped onto the monotonic clock.
    return now + (since + every - this.#o.wallClock().getTime());
  }

  /**
   * `dueAt` on the wall clock (ms since the epoch), for status: after a pass it is the wall-clock time of that pass
   * plus `every`, not a round trip through the monotonic clock, so two status answers agree to the millisecond.
   */
  dueAtWall(now: number, toWall: (monotonic: number) => number): number | undefined {
    const { every } = this.#o.settings.scrub;
    if (every === 'off') return undefined;
    if (this.#retryAt !== undefined || this.#state.pass !== undefined) return toWall(this.dueAt(now)!);
    return Date.parse(this.#state.lastCompleted?.at ?? this.#state.firstSeenAt) + every;
  }

  /** One chunk of the scrub pass (starting a pass first when none is under way). Never rejects: a failure is logged and retried later. */
  async step(signal: AbortSignal): Promise<void> {
    const { clock } = this.#o;
    this.#running = true;
    this.#retryAt = undefined;
    const started = clock.now();
    try {
      const pass = this.#state.pass ?? (await this.#startPass(signal));
      const chunk = await this.#chunks.next(pass, signal);
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
        pass: advancePass(pass, { lastId: chunk.lastId, paths: chunk.paths.length, bytes: report.bytes, ms: clock.now() - started, findings }),
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
      this.#retryAt = clock.now() + retryMs;
      this.#lastError = messageOf(error);
      logScheduleError(this.#o.logger, `scrub chunk failed; trying it again in ${Math.round(retryMs / 1000)} s (the cursor stays)`, error);
    } finally {
      this.#running = false;
    }
  }

  /** Closes the worker pool, if one is open (the next chunk opens another), and drops the lower rows kept. Never rejects. */
  async closePool(): Promise<void> {
    this.#chunks.close();
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }

  /** The `scrub` and `pool` sections of the schedule status; `nextAt` is the due time, already on the wall clock. */
  status(nextAt: string | undefined): Pick<ScheduleStatus, 'scrub' | 'pool'> {
    const { scrub } = this.#o.settings;
    const pass = this.#state.pass;
    const eta = pass === undefined ? undefined : passEtaMs(pass);
    const stats = this.#pool?.stats();
    const budget = this.#budget.stats();
    return {
      scrub: {
        state: scrub.every === 'off' ? 'off' : budget.waiting ? 'waiting' : this.#running ? 'running' : this.#retryAt !== undefined ? 'retrying' : 'idle',
        everyMs: scrub.every,
        layers: scrub.layers,
        maxReadMBps: scrub.maxReadMBps,
        threads: scrub.threads,
        nextAt,
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
                eta: eta === undefined ? undefined : new Date(this.#o.wallClock().getTime() + eta).toISOString(),
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

  async #startPass(signal: AbortSignal): Promise<ScrubPass> {
    const { layers } = this.#o.settings.scrub;
    const pathsTotal = await this.#chunks.pathsTotal(layers, signal);
    const pass: ScrubPass = {
      startedAt: this.#o.wallClock().toISOString(),
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
    const at = this.#o.wallClock();
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
    this.#o.onFindings(at, pass.findings);
    this.#o.observer?.completed?.('scrub', at);
    void this.closePool();
  }

  /** Keeps `state` and saves it; a failed save is logged (the next chunk saves again), never thrown. */
  #save(state: ScrubState): void {
    this.#state = state;
    try {
      saveScrubState(this.#stateFile, state);
    } catch (error) {
      logScheduleError(this.#o.logger, 'cannot save the scrub cursor', error);
    }
  }
}
