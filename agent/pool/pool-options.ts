/** Worker pool options: partial input, defaults from the machine, validated once, frozen. */
import { PoolOptionsError, type PoolWorkerError } from './pool-errors.ts';

export interface WorkerPoolOptions {
  /**
   * Most worker threads (default: `os.availableParallelism()`). Hashing is CPU-bound, so one
   * per core is right for a warm page cache; with a cold cache each task waits on reads, and
   * more threads than cores keep more reads in flight.
   */
  readonly maxThreads?: number;
  /** Threads kept when idle (default 0: an idle agent holds none; the first task starts one). */
  readonly minThreads?: number;
  /** How long a thread above `minThreads` may sit idle before it exits, in ms (default 5000). */
  readonly idleTimeoutMs?: number;
  /**
   * Tasks that may wait for a thread on top of the running ones (default 1024). Beyond it
   * `run` rejects with POOL_QUEUE_FULL: bulk work belongs in `map`, which bounds itself.
   */
  readonly maxQueue?: number;
  /** How long `close()` lets running tasks finish before it terminates their threads, in ms (default 1000). */
  readonly closeGraceMs?: number;
  /** Told when a worker thread fails outside any task (it is replaced); failures inside a task reject that task. */
  readonly onWorkerError?: (error: PoolWorkerError) => void;
}

export type ResolvedPoolOptions = Readonly<Required<Omit<WorkerPoolOptions, 'onWorkerError'>>> & {
  readonly onWorkerError: ((error: PoolWorkerError) => void) | undefined;
};

/** Facts about the machine the defaults come from (injected so tests can pick them). */
export interface MachineFacts {
  readonly availableParallelism: number;
}

const DEFAULTS = { minThreads: 0, idleTimeoutMs: 5000, maxQueue: 1024, closeGraceMs: 1000 } as const;
/** A ceiling that catches unit mistakes (ms vs s, bytes vs count) without limiting real use. */
const MAX_THREADS_LIMIT = 1024;
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['maxThreads', 'minThreads', 'idleTimeoutMs', 'maxQueue', 'closeGraceMs', 'onWorkerError']);

/**
 * Fills defaults and validates every field once; the result is frozen.
 * @throws PoolOptionsError naming the field and the bad value: an unknown field, a value of
 *   the wrong type or range, or `minThreads` above `maxThreads`.
 */
export function resolvePoolOptions(input: WorkerPoolOptions, machine: MachineFacts): ResolvedPoolOptions {
  if (typeof input !== 'object' || input === null) throw new PoolOptionsError('(options)', input, 'an object');
  for (const field of Object.keys(input))
    if (!KNOWN_FIELDS.has(field))
      throw new PoolOptionsError(field, (input as Record<string, unknown>)[field], `no such option; known: ${[...KNOWN_FIELDS].join(', ')}`);
  const maxThreads = integerIn('maxThreads', input.maxThreads ?? Math.min(Math.max(machine.availableParallelism, 1), MAX_THREADS_LIMIT), 1, MAX_THREADS_LIMIT);
  const minThreads = integerIn('minThreads', input.minThreads ?? DEFAULTS.minThreads, 0, MAX_THREADS_LIMIT);
  if (minThreads > maxThreads) throw new PoolOptionsError('minThreads', minThreads, `at most maxThreads (${maxThreads})`);
  const onWorkerError = input.onWorkerError;
  if (onWorkerError !== undefined && typeof onWorkerError !== 'function') throw new PoolOptionsError('onWorkerError', onWorkerError, 'a function');
  return Object.freeze({
    maxThreads,
    minThreads,
    idleTimeoutMs: integerIn('idleTimeoutMs', input.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs, 0, 2 ** 31 - 1),
    maxQueue: integerIn('maxQueue', input.maxQueue ?? DEFAULTS.maxQueue, 0, Number.MAX_SAFE_INTEGER),
    closeGraceMs: integerIn('closeGraceMs', input.closeGraceMs ?? DEFAULTS.closeGraceMs, 0, 2 ** 31 - 1),
    onWorkerError,
  });
}

/** `value` when it is an integer in [min, max]; otherwise a PoolOptionsError naming `field`. */
export function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PoolOptionsError(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}
