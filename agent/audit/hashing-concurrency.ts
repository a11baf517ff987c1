/**
 * How many objects verify hashes at once, adapted while it runs. With a warm page cache hashing is CPU-bound and one
 * object per core is best (more threads only take turns, and each new thread costs its start-up); with a cold cache
 * each hash waits on reads, and more objects in flight keep the disk busy. The kernel counts both directly, per
 * process, in /proc/self/io: `rchar` (bytes that read calls returned) and `read_bytes` (bytes this process made the
 * block layer fetch from storage, read-ahead and directory blocks included). A warm cache serves every read from
 * memory (no storage bytes at all, however slow the system calls of a VM are, or however busy the machine is); a cold
 * one fetches about what is read. Thread states (a thread in state D waits on the disk) were the evidence before:
 * on a VM whose system calls are slow a thread is caught in state D with everything cached, and a warm verify went
 * to eight threads on two cores, 10-25% slower than two.
 */
import fs from 'node:fs';

export interface ConcurrencyBounds {
  /** Where it starts and never goes below (what the cores need). */
  readonly min: number;
  /** Never above (what the pool's threads can take). */
  readonly max: number;
}

/** Read counters of this process, as /proc/self/io keeps them. */
export interface ReadCounters {
  /** Bytes read calls returned (`rchar`: page cache and storage alike, /proc and pipes too). */
  readonly bytesRead: number;
  /** Bytes fetched from storage for this process's reads (`read_bytes`). */
  readonly storageBytes: number;
}

/** Decisions look at the reads of this many intervals together: one slow file is not a cold cache. */
export const WINDOW_INTERVALS = 4;
/**
 * The window is cold when its storage bytes reach this share of the bytes read calls returned (and at least
 * COLD_STORAGE_BYTES): a cold cache fetches about everything it reads, more with read-ahead and directory blocks
 * (measured: 1.4 times the bytes read on the small-file store); a warm one nothing, or, where the kernel reclaims idle
 * pages (DAMON), a file now and then (measured: 6% of a window at most, on a run slowed eight-fold by other work).
 */
export const COLD_SHARE = 0.5;
/** Least storage bytes in a cold window: a DB page or one file's read-ahead is noise. */
export const COLD_STORAGE_BYTES = 1 << 20;
/** An interval that fetched fewer bytes than this from storage is quiet. */
export const QUIET_STORAGE_BYTES = 256 * 1024;
/** Consecutive quiet intervals before the concurrency is halved. */
export const QUIET_INTERVALS_TO_CUT = 5;

/** What one interval read: bytes read calls returned, and bytes fetched from storage. */
export type IntervalReads = ReadCounters;

/** What the adapter carries from one interval to the next. */
export interface AdaptState {
  /** Batches allowed in flight. */
  readonly limit: number;
  /** The counters at the end of the last interval. */
  readonly counters: ReadCounters;
  /** The reads of the last WINDOW_INTERVALS intervals at most, oldest first. */
  readonly window: readonly IntervalReads[];
  /** Intervals in a row, the last included, that fetched (almost) nothing from storage. */
  readonly quietIntervals: number;
}

/** The state at the start: `limit` in flight, counters as read now, nothing seen yet. */
export function startAdaptState(limit: number, counters: ReadCounters): AdaptState {
  return { limit, counters, window: [], quietIntervals: 0 };
}

/**
 * The next state from the counters at the end of an interval (pure). A cold window (see COLD_SHARE) means the reads
 * wait on storage, and then the most reads in flight is best (measured by `npm run bench:verify`: doubling step by
 * step spent the first second below the disk's depth), so it goes straight to the maximum. It halves, towards the
 * minimum, only after QUIET_INTERVALS_TO_CUT quiet intervals in a row (a cold run has pauses while threads hash what
 * they read; cutting on one made it swing between its bounds). A warm cache fetches nothing: it stays at the minimum.
 */
export function nextAdaptState(state: AdaptState, counters: ReadCounters, bounds: ConcurrencyBounds): AdaptState {
  const interval = {
    bytesRead: Math.max(0, counters.bytesRead - state.counters.bytesRead),
    storageBytes: Math.max(0, counters.storageBytes - state.counters.storageBytes),
  };
  const window = [...state.window.slice(1 - WINDOW_INTERVALS), interval];
  let bytesRead = 0;
  let storageBytes = 0;
  for (const reads of window) {
    bytesRead += reads.bytesRead;
    storageBytes += reads.storageBytes;
  }
  const quietIntervals = interval.storageBytes < QUIET_STORAGE_BYTES ? state.quietIntervals + 1 : 0;
  let limit = state.limit;
  if (storageBytes >= COLD_STORAGE_BYTES && storageBytes >= COLD_SHARE * bytesRead) limit = bounds.max;
  else if (quietIntervals >= QUIET_INTERVALS_TO_CUT) limit = Math.max(bounds.min, Math.floor(state.limit / 2));
  return { limit, counters, window, quietIntervals };
}

/** The read counters of a /proc/PID/io text, or undefined when it lacks them (pure). */
export function parseProcIo(text: string): ReadCounters | undefined {
  const bytesRead = /^rchar:\s*(\d+)$/m.exec(text)?.[1];
  const storageBytes = /^read_bytes:\s*(\d+)$/m.exec(text)?.[1];
  if (bytesRead === undefined || storageBytes === undefined) return undefined;
  return { bytesRead: Number(bytesRead), storageBytes: Number(storageBytes) };
}

/** This process's read counters, or undefined where the kernel does not keep them (not Linux, no task I/O accounting). */
export function readCounters(): ReadCounters | undefined {
  try {
    return parseProcIo(fs.readFileSync('/proc/self/io', 'latin1'));
  } catch {
    return undefined;
  }
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
