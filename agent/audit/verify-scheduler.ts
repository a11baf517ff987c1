/** Runs verify's batches of objects through two worker pools (a per-core one, extra threads for a cold cache), with progress and abort. */
import { performance } from 'node:perf_hooks';
import {
  boundedMap,
  PoolAbortedError,
  PoolClosedError,
  computeProgress,
  type WorkerPool,
  type MapProgress,
  type ProgressCounts,
  type ProgressTotals,
} from '../pool/index.ts';
import { hashSource, type VerifyItem } from './find-corrupt.ts';
import { Gate, nextAdaptState, readCounters, startAdaptState, type AdaptState, type ConcurrencyBounds } from './hashing-concurrency.ts';
import type { HashedBatch } from './verify-judge.ts';

export interface HashSchedule {
  readonly signal: AbortSignal;
  readonly pool: WorkerPool;
  /** Extra threads, used with `adaptive` concurrency only (see VerifyOptions.ioPool). */
  readonly ioPool?: WorkerPool | undefined;
  /** Tasks in flight, or `adaptive` (see VerifyOptions.concurrency). Default: twice the pool's threads. */
  readonly concurrency?: number | 'adaptive' | undefined;
  /** Objects and NAR bytes in the whole run, for the ETA. */
  readonly totals: ProgressTotals;
  readonly onProgress?: ((progress: MapProgress) => void) | undefined;
}

/** What the caller made of a batch: objects that could not be hashed, and NAR bytes hashed (for progress). */
export interface BatchTally {
  readonly failed: number;
  readonly bytes: number;
}

/** How far a run got: objects settled (hashed or failed), NAR bytes hashed, and whether it was interrupted. */
export interface HashRun {
  readonly checked: number;
  readonly bytes: number;
  readonly partial: boolean;
}

/**
 * Hashes each batch in a `nar-hash-batch` task (each item's hashSource) and hands every outcome, as it comes, to
 * `settle`. With adaptive
 * concurrency and an `ioPool`, tasks beyond two per `pool` thread go to `ioPool`, and the number in flight follows
 * how much of what is read comes from storage rather than the page cache (hashing-concurrency.ts). Progress counts objects (not batches), at most every PROGRESS_INTERVAL_MS,
 * and a final event once every batch is settled. Aborting `signal` resolves with `partial: true` and the counts so far.
 * @throws PoolClosedError when a pool is closed under the run; whatever `settle` or `batches` throw.
 */
export async function hashBatches(
  batches: Iterable<readonly VerifyItem[]>,
  schedule: HashSchedule,
  settle: (outcome: HashedBatch) => BatchTally,
): Promise<HashRun> {
  const { signal, pool } = schedule;
  const adaptive = schedule.concurrency === 'adaptive';
  const ioPool = adaptive ? schedule.ioPool : undefined;
  const fixed = typeof schedule.concurrency === 'number' ? schedule.concurrency : 2 * pool.size;
  // Two batches in flight per thread: one hashing, one queued, so a thread never idles while its next task comes.
  const primaryCap = 2 * pool.size;
  const bounds = { min: primaryCap, max: primaryCap + 2 * (ioPool?.size ?? 0) };
  const gate = new Gate(adaptive ? bounds.min : fixed);
  const adapter = adaptive && ioPool !== undefined ? adaptEvery(gate, bounds) : undefined;
  let primaryInFlight = 0;
  let launched = 0;
  let checked = 0;
  let failed = 0;
  let bytes = 0;
  const progress = progressReporter(schedule.onProgress, schedule.totals, () => ({ done: checked, failed, inFlight: launched - checked, bytes }));
  const outcomes = boundedMap(
    batches,
    async (batch, batchSignal) => {
      await gate.enter(batchSignal);
      launched += batch.length;
      const primary = ioPool === undefined || primaryInFlight < primaryCap;
      if (primary) primaryInFlight++;
      try {
        return await (primary ? pool : ioPool).run({ type: 'nar-hash-batch', paths: batch.map(hashSource) }, batchSignal);
      } finally {
        if (primary) primaryInFlight--;
        gate.leave();
      }
    },
    {
      signal,
      // Batches waiting at the gate count too: enough to keep the gate full at its highest.
      concurrency: Math.min(2 * Math.max(fixed, bounds.max), pool.options.maxThreads + pool.options.maxQueue),
      isFatal: (error) => error instanceof PoolClosedError,
    },
  );
  try {
    for await (const outcome of outcomes) {
      const tally = settle(outcome);
      checked += outcome.item.length;
      failed += tally.failed;
      bytes += tally.bytes;
      progress(false);
    }
    progress(true);
    return { checked, bytes, partial: false };
  } catch (error) {
    if (!(error instanceof PoolAbortedError) && !signal.aborted) throw error;
    return { checked, bytes, partial: true };
  } finally {
    if (adapter !== undefined) clearInterval(adapter);
  }
}

/** Least time between progress events, as boundedMap's default. */
const PROGRESS_INTERVAL_MS = 250;

/** Progress at most every PROGRESS_INTERVAL_MS, the final event always; a no-op without `onProgress`. */
function progressReporter(
  onProgress: ((progress: MapProgress) => void) | undefined,
  totals: ProgressTotals,
  counts: () => ProgressCounts,
): (final: boolean) => void {
  const start = performance.now();
  let last = -Infinity;
  return (final) => {
    if (onProgress === undefined) return;
    const now = performance.now();
    if (!final && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    onProgress(computeProgress(counts(), totals, now - start, final));
  };
}

/**
 * How often adaptive concurrency reads the counters and decides: a cold cache is recognised 50 ms in (a decision costs
 * one read of /proc/self/io).
 */
const DECIDE_MS = 50;

/** Reads this process's read counters every DECIDE_MS and resets the gate's limit from them (nextAdaptState). */
function adaptEvery(gate: Gate, bounds: ConcurrencyBounds): NodeJS.Timeout | undefined {
  const counters = readCounters();
  if (counters === undefined) return undefined; // no evidence: the cores' concurrency, right for a warm cache
  let state: AdaptState = startAdaptState(gate.limit, counters);
  const timer = setInterval(() => {
    const now = readCounters();
    if (now === undefined) return clearInterval(timer);
    state = nextAdaptState({ ...state, limit: gate.limit }, now, bounds);
    if (state.limit !== gate.limit) gate.setLimit(state.limit);
  }, DECIDE_MS);
  timer.unref();
  return timer;
}
