/** When to try an unavailable lower daemon again: exponential backoff, capped, with "equal jitter". */

export interface BackoffSettings {
  /** The wait after the first failure. */
  readonly initialMs: number;
  /** The longest wait (the daemon watcher uses its poll interval: never slower than when all is well). */
  readonly maxMs: number;
}

/**
 * The wait before reconnect attempt number `failures` + 1, after `failures` (≥ 1) failures in a row: the base
 * `initialMs · 2^(failures−1)`, capped at `maxMs`, of which the upper half is jittered by `random()` ∈ [0, 1).
 * Jitter keeps the many consumers of one shared daemon from all reconnecting in the same instant after it restarts;
 * the lower half keeps the backoff a backoff. `random` is injected by tests (`() => 1` gives the base exactly).
 * Pure for a given `random`.
 */
export function reconnectDelayMs(failures: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(failures));
  // 2^(n−1) overflows to Infinity for large n; the cap makes that harmless.
  const base = Math.min(settings.maxMs, settings.initialMs * 2 ** (n - 1));
  const half = base / 2;
  return Math.round(half + half * Math.min(1, Math.max(0, random())));
}
