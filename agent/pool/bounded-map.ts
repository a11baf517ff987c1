/** Runs an async function over a (possibly huge, possibly lazy) stream of items with a bounded number in flight. */
import { performance } from 'node:perf_hooks';
import { PoolAbortedError, PoolOptionsError } from './pool-errors.ts';
import { toErrorReport, type ErrorReport } from './error-report.ts';
import { computeProgress, type MapProgress } from './map-progress.ts';
import { integerIn } from './pool-options.ts';

export const MAP_ORDERS = ['completion', 'input'] as const;
export type MapOrder = (typeof MAP_ORDERS)[number];

export interface BoundedMapOptions<I, R> {
  /** Aborting stops the run: pending `next()` rejects with POOL_ABORTED and running items get an aborted signal. */
  readonly signal: AbortSignal;
  /**
   * Most items started and not yet taken by the consumer. Results waiting for a slow
   * consumer count too, so memory stays bounded by this, whatever the number of items.
   */
  readonly concurrency: number;
  /** `completion` (default): outcomes as items finish. `input`: in input order (a slow head holds the window). */
  readonly order?: MapOrder;
  /** Item count for progress and ETA; defaults to an array's length. */
  readonly total?: number;
  /** Total bytes for the ETA, when the caller knows them (e.g. the sum of narSize). */
  readonly totalBytes?: number;
  /** Bytes a successful item stands for, for throughput (default 0). */
  readonly bytesOf?: (value: R, item: I) => number;
  readonly onProgress?: (progress: MapProgress) => void;
  /** Least time between progress events in ms (default 250); the final event is always sent. */
  readonly progressIntervalMs?: number;
  /** Errors that end the whole run instead of being reported for their item (e.g. the pool was closed). */
  readonly isFatal?: (error: unknown) => boolean;
}

/** One item's result; failures are data, so one bad item never ends the run. */
export type MapOutcome<I, R> =
  | { readonly ok: true; readonly index: number; readonly item: I; readonly value: R }
  | { readonly ok: false; readonly index: number; readonly item: I; readonly error: ErrorReport };

interface Settings<I, R> {
  readonly signal: AbortSignal;
  readonly concurrency: number;
  readonly order: MapOrder;
  readonly total: number | undefined;
  readonly totalBytes: number | undefined;
  readonly bytesOf: ((value: R, item: I) => number) | undefined;
  readonly onProgress: ((progress: MapProgress) => void) | undefined;
  readonly progressIntervalMs: number;
  readonly isFatal: ((error: unknown) => boolean) | undefined;
}

interface Slot<I, R> {
  readonly index: number;
  readonly item: I;
  outcome: MapOutcome<I, R> | undefined;
  fatal: unknown;
}

const NOT_FATAL = Symbol('not fatal');

/**
 * Calls `fn(item, signal)` for each item, at most `concurrency` at a time, and yields each
 * item's outcome. Items are pulled from `items` only as slots free up, so a lazy source of a
 * million entries is never materialised. A failing item yields `{ ok: false, error }` and the
 * run goes on. Breaking out of the loop (or an abort) aborts the signal given to running items.
 * Options are validated at the call; an already-aborted signal rejects the first `next()`.
 * @throws PoolOptionsError for a bad option (naming it), synchronously.
 * @throws PoolAbortedError from `next()` once `signal` aborts (partial outcomes were already yielded).
 * Errors from `items`, `bytesOf`, `onProgress` and fatal errors (`isFatal`) end the run and are rethrown.
 */
export function boundedMap<I, R>(
  items: Iterable<I> | AsyncIterable<I>,
  fn: (item: I, signal: AbortSignal) => Promise<R> | R,
  options: BoundedMapOptions<I, R>,
): AsyncGenerator<MapOutcome<I, R>, void, undefined> {
  return runBounded(items, fn, resolveMapOptions(options, items));
}

function resolveMapOptions<I, R>(options: BoundedMapOptions<I, R>, items: Iterable<I> | AsyncIterable<I>): Settings<I, R> {
  if (!(options?.signal instanceof AbortSignal)) throw new PoolOptionsError('signal', options?.signal, 'an AbortSignal');
  const order = options.order ?? 'completion';
  if (!MAP_ORDERS.includes(order)) throw new PoolOptionsError('order', order, `one of ${MAP_ORDERS.join(', ')}`);
  for (const field of ['bytesOf', 'onProgress', 'isFatal'] as const) {
    if (options[field] !== undefined && typeof options[field] !== 'function') throw new PoolOptionsError(field, options[field], 'a function');
  }
  const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
  return {
    signal: options.signal,
    concurrency: integerIn('concurrency', options.concurrency, 1, 1_000_000),
    order,
    total: total === undefined ? undefined : integerIn('total', total, 0, Number.MAX_SAFE_INTEGER),
    totalBytes: options.totalBytes === undefined ? undefined : integerIn('totalBytes', options.totalBytes, 0, Number.MAX_SAFE_INTEGER),
    bytesOf: options.bytesOf,
    onProgress: options.onProgress,
    progressIntervalMs: integerIn('progressIntervalMs', options.progressIntervalMs ?? 250, 0, 2 ** 31 - 1),
    isFatal: options.isFatal,
  };
}

async function* runBounded<I, R>(
  items: Iterable<I> | AsyncIterable<I>,
  fn: (item: I, signal: AbortSignal) => Promise<R> | R,
  settings: Settings<I, R>,
): AsyncGenerator<MapOutcome<I, R>, void, undefined> {
  const { signal, concurrency, order } = settings;
  if (signal.aborted) throw new PoolAbortedError(signal.reason);
  const inner = new AbortController();
  /** Ends the generator's current wait; called when an item settles, the source answers, or the signal aborts. */
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const onAbort = (): void => {
    inner.abort(signal.reason);
    notify();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  const source = iteratorOf(items);
  let exhausted = false;
  /** An async source's answer still to come; at most one request is out, so nothing piles up. */
  let sourcePending = false;
  let sourceReady: IteratorResult<I> | undefined;
  let sourceFailure: { readonly error: unknown } | undefined;
  const requestFromSource = (): void => {
    const step = source.next();
    if (!isPromiseLike(step)) {
      sourceReady = step; // a sync source: no tick per item
      return;
    }
    sourcePending = true;
    step.then(
      (result) => {
        sourcePending = false;
        sourceReady = result;
        notify();
      },
      (error: unknown) => {
        sourcePending = false;
        sourceFailure = { error };
        notify();
      },
    );
  };

  /** Started and not yet yielded; a Set keeps insertion (input) order. */
  const window = new Set<Slot<I, R>>();
  /** Settled slots in completion order (used in `completion` order only). */
  const settled: Slot<I, R>[] = [];
  let nextIndex = 0;
  let done = 0;
  let failed = 0;
  let bytes = 0;
  const start = performance.now();
  let lastProgress = -Infinity;
  const progress = (final: boolean): void => {
    if (settings.onProgress === undefined) return;
    const now = performance.now();
    if (!final && now - lastProgress < settings.progressIntervalMs) return;
    lastProgress = now;
    settings.onProgress(computeProgress({ done, failed, inFlight: window.size, bytes }, settings, now - start, final));
  };

  const launch = (item: I): void => {
    const slot: Slot<I, R> = { index: nextIndex++, item, outcome: undefined, fatal: NOT_FATAL };
    window.add(slot);
    // Not awaited: the consumer waits on `notify`. Both outcomes of `fn` are caught here, and recording them and
    // waking the consumer do not throw, so nothing is left to reject.
    void Promise.resolve()
      .then(() => fn(item, inner.signal))
      .then(
        (value) => {
          slot.outcome = { ok: true, index: slot.index, item, value };
        },
        (error: unknown) => {
          if (settings.isFatal?.(error) === true) slot.fatal = error;
          slot.outcome = { ok: false, index: slot.index, item, error: toErrorReport(error) };
        },
      )
      .then(() => {
        if (order === 'completion') settled.push(slot);
        notify();
      });
  };
  const take = (): Slot<I, R> | undefined => {
    if (order === 'completion') return settled.shift();
    const head = window.values().next();
    return head.done === true || head.value.outcome === undefined ? undefined : head.value;
  };

  try {
    for (;;) {
      if (signal.aborted) throw new PoolAbortedError(signal.reason);
      if (sourceFailure !== undefined) throw sourceFailure.error;
      // Start items while there is room and the source has them; a slow source never holds back finished results.
      while (!exhausted && window.size < concurrency) {
        if (sourceReady === undefined) {
          if (sourcePending) break;
          requestFromSource();
          if (sourceReady === undefined) break;
        }
        const step: IteratorResult<I> = sourceReady;
        sourceReady = undefined;
        if (step.done === true) exhausted = true;
        else launch(step.value);
      }
      if (exhausted && window.size === 0) break;
      const slot = take();
      if (slot === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      window.delete(slot);
      if (slot.fatal !== NOT_FATAL) throw slot.fatal;
      const outcome = slot.outcome!;
      done++;
      if (outcome.ok) bytes += settings.bytesOf?.(outcome.value, outcome.item) ?? 0;
      else failed++;
      progress(false);
      yield outcome;
    }
    progress(true);
  } finally {
    signal.removeEventListener('abort', onAbort);
    inner.abort(); // items still running belong to nobody now
    if (!exhausted) void Promise.resolve(source.return?.()).catch(() => undefined);
  }
}

function iteratorOf<I>(items: Iterable<I> | AsyncIterable<I>): Iterator<I> | AsyncIterator<I> {
  if (Symbol.asyncIterator in items) return items[Symbol.asyncIterator]();
  return items[Symbol.iterator]();
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}
