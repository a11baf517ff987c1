/** Progress of a bounded run as one plain event: counts, bytes, throughput since the start, and an ETA. */

export interface MapProgress {
  /** Items finished, successfully or not. */
  readonly done: number;
  readonly failed: number;
  /** Items started and not yet handed to the consumer. */
  readonly inFlight: number;
  /** Items in the whole run, when known (an array's length, or the `total` option). */
  readonly total: number | undefined;
  /** Bytes of content processed by finished items (the `bytesOf` option). */
  readonly bytes: number;
  readonly totalBytes: number | undefined;
  readonly elapsedMs: number;
  readonly itemsPerSecond: number;
  readonly bytesPerSecond: number;
  /** Time left at the average rate so far: by bytes when `totalBytes` is known, else by items; undefined before any rate. */
  readonly etaMs: number | undefined;
  /** The last event of a run that went through all its items. */
  readonly final: boolean;
}

export interface ProgressCounts {
  readonly done: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly bytes: number;
}

export interface ProgressTotals {
  readonly total: number | undefined;
  readonly totalBytes: number | undefined;
}

/** Computes a progress event from counts at `elapsedMs` after the start. Pure. */
export function computeProgress(counts: ProgressCounts, totals: ProgressTotals, elapsedMs: number, final: boolean): MapProgress {
  const seconds = elapsedMs / 1000;
  const itemsPerSecond = seconds > 0 ? counts.done / seconds : 0;
  const bytesPerSecond = seconds > 0 ? counts.bytes / seconds : 0;
  let etaMs: number | undefined;
  if (final) etaMs = 0;
  else if (totals.totalBytes !== undefined && bytesPerSecond > 0) etaMs = (Math.max(totals.totalBytes - counts.bytes, 0) / bytesPerSecond) * 1000;
  else if (totals.total !== undefined && itemsPerSecond > 0) etaMs = (Math.max(totals.total - counts.done, 0) / itemsPerSecond) * 1000;
  return { ...counts, total: totals.total, totalBytes: totals.totalBytes, elapsedMs, itemsPerSecond, bytesPerSecond, etaMs, final };
}
