/** The scrub's read-rate budget: a token bucket of NAR bytes, paid before each chunk is hashed, on an injected clock. */

/** Time as the budget sees it: tests pass a clock whose `sleep` moves `now` on, so no test waits in real time. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason once `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The process's monotonic clock and timers. */
export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A token bucket: `tokens` bytes available at time `at` (may be negative: a debt being paid off). */
export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

/**
 * Takes `bytes` from the bucket at `now` (pure): the bucket first fills at `bytesPerSecond` since `at`, up to
 * `burstBytes`; then `bytes` are taken, and when that leaves a debt, `waitMs` is how long to wait before reading,
 * so that what is granted from any moment on never exceeds `burstBytes + bytesPerSecond × elapsed`. A chunk larger
 * than the burst is granted whole, after the wait its size calls for.
 */
export function takeFromBucket(
  bucket: Bucket,
  bytes: number,
  now: number,
  rate: { bytesPerSecond: number; burstBytes: number },
): { bucket: Bucket; waitMs: number } {
  const filled = Math.min(rate.burstBytes, bucket.tokens + (Math.max(0, now - bucket.at) * rate.bytesPerSecond) / 1000);
  const tokens = filled - bytes;
  return { bucket: { tokens, at: now }, waitMs: tokens < 0 ? (-tokens * 1000) / rate.bytesPerSecond : 0 };
}

export interface ReadBudgetOptions {
  /** Bytes per second; undefined: no budget (take never waits). */
  readonly bytesPerSecond: number | undefined;
  /** Bytes that may be read at once after a quiet time. Default: one second's worth. */
  readonly burstBytes?: number;
  readonly clock?: Clock;
}

/** The read budget of one agent run: `take` waits until a chunk's bytes may be read; counts what it granted and waited. */
export class ReadBudget {
  readonly bytesPerSecond: number | undefined;
  readonly #burstBytes: number;
  readonly #clock: Clock;
  #bucket: Bucket;
  #granted = 0;
  #waitedMs = 0;
  #waiting = false;

  constructor(options: ReadBudgetOptions) {
    this.bytesPerSecond = options.bytesPerSecond;
    this.#burstBytes = options.burstBytes ?? options.bytesPerSecond ?? 0;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    // Starts full: the first chunk after a start need not wait.
    this.#bucket = { tokens: this.#burstBytes, at: this.#clock.now() };
  }

  /**
   * Waits until `bytes` may be read within the budget, then counts them as granted. Rejects with the signal's reason
   * when `signal` aborts (during the wait: the bytes stay counted as taken, a stopped chunk costs its share).
   */
  async take(bytes: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.bytesPerSecond !== undefined) {
      const { bucket, waitMs } = takeFromBucket(this.#bucket, bytes, this.#clock.now(), { bytesPerSecond: this.bytesPerSecond, burstBytes: this.#burstBytes });
      this.#bucket = bucket;
      if (waitMs > 0) {
        this.#waiting = true;
        try {
          await this.#clock.sleep(waitMs, signal);
        } finally {
          this.#waiting = false;
        }
        this.#waitedMs += waitMs;
      }
    }
    this.#granted += bytes;
  }

  /** Bytes granted so far, time spent waiting for the budget, and whether a take is waiting now. */
  stats(): { readonly grantedBytes: number; readonly waitedMs: number; readonly waiting: boolean } {
    return { grantedBytes: this.#granted, waitedMs: this.#waitedMs, waiting: this.#waiting };
  }
}
