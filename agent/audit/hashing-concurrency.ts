/**
 * How many objects verify hashes at once, adapted while it runs. With a warm page cache hashing is CPU-bound and one
 * object per core is best (more threads only take turns, and each new thread costs its start-up); with a cold cache
 * each hash waits on reads, and more objects in flight keep the disk busy. Linux tells the two apart directly: a
 * thread waiting for the disk is in state D ("uninterruptible sleep") in /proc/self/task/TID/stat. Unlike CPU use,
 * this does not mistake a machine busy with other work for a slow disk.
 */
import fs from 'node:fs';

export interface ConcurrencyBounds {
  /** Where it starts and never goes below (what the cores need). */
  readonly min: number;
  /** Never above (what the pool's threads can take). */
  readonly max: number;
}

/** When at least this share of the objects in flight wait on the disk (on average), go to the maximum. */
export const RAISE_FROM = 0.15;
/** Consecutive intervals with no thread seen waiting on the disk before the concurrency is halved. */
export const QUIET_INTERVALS_TO_CUT = 5;

/**
 * What one decision sees: the average number of worker threads found waiting on the disk over the last interval, and
 * how many intervals in a row, this one included, found none.
 */
export interface DiskWaitSample {
  readonly waitingOnDisk: number;
  readonly quietIntervals: number;
}

/**
 * The next concurrency (batches in flight) from the current one and what the last interval saw (pure). Threads
 * waiting on the disk mean a cold cache, and then the most reads in flight is best (measured by `npm run
 * bench:verify`: a fixed eight threads on two cores beat doubling step by step from two, which spent the first
 * second or more below the disk's depth), so it goes straight to the maximum. It halves, towards the minimum, only
 * after QUIET_INTERVALS_TO_CUT intervals in a row in which no thread was ever seen waiting: with a cold cache the
 * samples are noisy (a short interval often catches no thread in state D), and cutting on one quiet interval made
 * the concurrency swing between its bounds (measured: cold verifies 0.5 s slower in the median than a fixed eight
 * threads). With a warm cache no thread waits, so it stays at the minimum.
 */
export function nextConcurrency(current: number, sample: DiskWaitSample, bounds: ConcurrencyBounds): number {
  if (sample.waitingOnDisk / Math.max(current, 1) >= RAISE_FROM) return bounds.max;
  if (sample.quietIntervals >= QUIET_INTERVALS_TO_CUT) return Math.max(bounds.min, Math.floor(current / 2));
  return current;
}

/** The state letter of a /proc/PID/task/TID/stat line (`R`, `S`, `D`…), or undefined when it is not one (pure). */
export function taskState(stat: string): string | undefined {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: the state follows the last `)`.
  const close = stat.lastIndexOf(')');
  return close < 0 ? undefined : stat.charAt(close + 2) || undefined;
}

/**
 * Worker threads (named `WorkerThread` by Node) of this process now waiting on the disk (state D), or undefined
 * where /proc cannot tell (not Linux).
 */
export function workerThreadsWaitingOnDisk(): number | undefined {
  let tasks: string[];
  try {
    tasks = fs.readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  let waiting = 0;
  for (const tid of tasks) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/comm`, 'latin1') !== 'WorkerThread\n') continue;
      if (taskState(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'latin1')) === 'D') waiting++;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return waiting;
}

/** A counting gate whose limit can change while it is in use: `enter` waits while `limit` holders are inside. */
export class Gate {
  #limit: number;
  #inside = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  get inside(): number {
    return this.#inside;
  }

  /** Changes the limit; a raise lets waiters in at once, a cut takes effect as holders leave. */
  setLimit(limit: number): void {
    this.#limit = limit;
    this.#admit();
  }

  /** Resolves when there is room; rejects with `signal.reason` when aborted first (and takes no room). */
  enter(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#inside < this.#limit && this.#waiting.length === 0) {
      this.#inside++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const admit = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.#inside++;
        resolve();
      };
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(admit);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(admit);
    });
  }

  leave(): void {
    this.#inside--;
    this.#admit();
  }

  #admit(): void {
    while (this.#inside < this.#limit && this.#waiting.length > 0) this.#waiting.shift()!();
  }
}
