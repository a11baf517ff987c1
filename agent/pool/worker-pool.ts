/** A pool of worker threads (piscina) running pool tasks, with cancellation, a bounded queue and an idempotent close. */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { messageOf, type WardenError } from '../errors/index.ts';
import { boundedMap, type BoundedMapOptions, type MapOutcome } from './bounded-map.ts';
import { PoolAbortedError, PoolClosedError, PoolOptionsError, PoolQueueFullError, PoolWorkerError } from './pool-errors.ts';
import { resolvePoolOptions, type ResolvedPoolOptions, type WorkerPoolOptions } from './pool-options.ts';
import { rebuildTaskError, describeTask, resultBytes, taskSubject, type PoolTask, type TaskResult } from './tasks.ts';
import type { TaskOutcome } from './worker.ts';
import { siblingModuleUrl } from './worker-file.ts';

/** `worker.ts` under type stripping, `worker.js` in `dist/`. */
const WORKER_FILE = fileURLToPath(siblingModuleUrl(import.meta.url, 'worker'));

/** Counters for metrics and tests. */
export interface PoolStats {
  /** Live worker threads. */
  readonly threads: number;
  /** Tasks submitted and not yet settled: running plus queued. */
  readonly inFlight: number;
  /** Tasks waiting for a thread. */
  readonly queued: number;
  /** The most tasks ever in flight at once. */
  readonly peakInFlight: number;
  readonly succeeded: number;
  /** Tasks that rejected for any reason (task error, abort, close, worker failure). */
  readonly failed: number;
  readonly closed: boolean;
}

/** `map` options: those of boundedMap, with `concurrency` defaulting to twice the pool size. */
export type PoolMapOptions<I, R> = Omit<BoundedMapOptions<I, R>, 'concurrency'> & { readonly concurrency?: number };

/**
 * Runs pool tasks on worker threads. Differs from bare piscina in: errors come back as
 * WardenErrors naming the task's path (not bare clones); a full queue rejects (piscina's
 * `maxQueue` does not apply to tasks with a signal); `close()` cancels queued tasks at once
 * and gives running ones `closeGraceMs`.
 */
export class WorkerPool {
  readonly options: ResolvedPoolOptions;
  readonly #piscina: Piscina<PoolTask, TaskOutcome>;
  #inFlight = 0;
  #peakInFlight = 0;
  #succeeded = 0;
  #failed = 0;
  #closing: Promise<void> | undefined;

  /** @throws PoolOptionsError naming the bad field and value. */
  constructor(options: WorkerPoolOptions = {}) {
    this.options = resolvePoolOptions(options, { availableParallelism: availableParallelism() });
    this.#piscina = new Piscina<PoolTask, TaskOutcome>({
      filename: WORKER_FILE,
      minThreads: this.options.minThreads,
      maxThreads: this.options.maxThreads,
      idleTimeout: this.options.idleTimeoutMs,
      closeTimeout: this.options.closeGraceMs,
      recordTiming: false,
      // Closes descriptors a terminated thread left open (an abort can stop a hash mid-file).
      trackUnmanagedFds: true,
    });
    this.#piscina.on('error', (error: unknown) => {
      // While closing, piscina reports its grace timeout here; the tasks it cut short reject on their own.
      if (this.#closing !== undefined) return;
      this.options.onWorkerError?.(new PoolWorkerError('a worker thread failed outside any task; it is replaced', { cause: error }));
    });
  }

  /** Most threads: the pool's size. */
  get size(): number {
    return this.options.maxThreads;
  }

  /**
   * Runs one task on a worker thread. Rejects at once when `signal` is already aborted;
   * aborting later removes a queued task, or terminates the thread running it (so a task
   * stops within moments even mid-file; the thread is replaced as needed).
   * @throws PoolTaskError the handler threw: worker-side code (e.g. NAR_IO_ERROR), message, evidence, plus `task` and `taskPath`.
   * @throws PoolAbortedError `signal` aborted. PoolClosedError: `close()` began first.
   * @throws PoolQueueFullError more than maxThreads + maxQueue tasks outstanding.
   * @throws PoolWorkerError the thread died (crash, out of memory) or could not load the worker.
   */
  async run<T extends PoolTask>(task: T, signal: AbortSignal): Promise<TaskResult<T>> {
    if (signal.aborted) throw new PoolAbortedError(signal.reason, { task });
    if (this.#closing !== undefined) throw new PoolClosedError({ task });
    const limit = this.options.maxThreads + this.options.maxQueue;
    if (this.#inFlight >= limit) throw new PoolQueueFullError(limit, { task });
    this.#inFlight++;
    this.#peakInFlight = Math.max(this.#peakInFlight, this.#inFlight);
    let outcome: TaskOutcome;
    try {
      outcome = await this.#piscina.run(task, { signal });
    } catch (error) {
      this.#failed++;
      throw this.#explain(error, task, signal);
    } finally {
      this.#inFlight--;
    }
    if (!outcome.ok) {
      this.#failed++;
      throw rebuildTaskError(outcome.error, task);
    }
    this.#succeeded++;
    return outcome.value as TaskResult<T>;
  }

  /**
   * Runs `toTask(item)` for each item through boundedMap: at most `concurrency` (default
   * 2 × size, enough to keep every thread fed) in flight, failures as per-item outcomes,
   * progress with bytes from each result. A closed pool ends the run (PoolClosedError).
   * @throws PoolOptionsError when `concurrency` exceeds maxThreads + maxQueue, or per boundedMap.
   */
  map<I, T extends PoolTask>(
    items: Iterable<I> | AsyncIterable<I>,
    toTask: (item: I) => T,
    options: PoolMapOptions<I, TaskResult<T>>,
  ): AsyncGenerator<MapOutcome<I, TaskResult<T>>, void, undefined> {
    const concurrency = options.concurrency ?? 2 * this.size;
    const limit = this.options.maxThreads + this.options.maxQueue;
    if (typeof concurrency === 'number' && concurrency > limit) {
      throw new PoolOptionsError('concurrency', concurrency, `at most maxThreads + maxQueue (${limit})`);
    }
    return boundedMap(items, (item, signal) => this.run(toTask(item), signal), {
      bytesOf: (value) => resultBytes(value),
      isFatal: (error) => error instanceof PoolClosedError,
      ...options,
      concurrency,
    });
  }

  /** A snapshot of the counters: live threads, tasks in flight and queued, the peak, outcomes. */
  stats(): PoolStats {
    return {
      threads: this.#piscina.threads.length,
      inFlight: this.#inFlight,
      queued: this.#piscina.queueSize,
      peakInFlight: this.#peakInFlight,
      succeeded: this.#succeeded,
      failed: this.#failed,
      closed: this.#closing !== undefined,
    };
  }

  /**
   * Stops the pool: new tasks reject with PoolClosedError, queued ones at once, running ones
   * may finish within `closeGraceMs`, then their threads are terminated. Resolves when every
   * thread has exited. Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#piscina.close({ force: true });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #explain(error: unknown, task: PoolTask, signal: AbortSignal): WardenError {
    if (signal.aborted) return new PoolAbortedError(signal.reason, { task });
    // Queued when close() began, or still running when the grace period ran out.
    if (this.#closing !== undefined) return new PoolClosedError({ task });
    const message = messageOf(error);
    return new PoolWorkerError(`${describeTask(task)}: the worker thread failed: ${message}`, {
      evidence: { task, taskPath: taskSubject(task) },
      cause: error,
    });
  }
}
