/** Content verification: hashes store objects in the worker pool and compares each with the narHash its DB records. */
import { performance } from 'node:perf_hooks';
import { compareFindings, type Finding } from '../findings/index.ts';
import { computeProgress, type MapProgress, type ProgressCounts } from '../pool/map-progress.ts';
import { boundedMap } from '../pool/bounded-map.ts';
import { toErrorReport } from '../pool/error-report.ts';
import { rebuildTaskError, type SerialisedError } from '../pool/serialised-error.ts';
import { PoolAbortedError, PoolClosedError } from '../pool/pool-errors.ts';
import type { WorkerPool } from '../pool/worker-pool.ts';
import type { NixDb } from '../store/nix-db.ts';
import type { StoreLayout } from '../store/store-layout.ts';
import { joinIndexes, pathResolver, readDbIndex, type DbIndex } from './db-index.ts';
import { judgeFailure, judgeMeasurement, vanished, type Expectation, type VerifyItem } from './find-corrupt.ts';
import { KIND_CODE, listLayer, type LayerListing } from './layer-listing.ts';
import { openAuditDbs } from './open-dbs.ts';
import { Gate, nextConcurrency, workerThreadsWaitingOnDisk, type ConcurrencyBounds } from './hashing-concurrency.ts';
import { narHashBytes, resolveVerifyPaths } from './verify-paths.ts';
import { baseNameIn, packStoreKey, STORE_KEY_BYTES } from './store-key.ts';
import { verifyBatches } from './verify-batches.ts';

/** `upper`: every upper-DB registration (what Nix's verify of the overlay store checks); `lower`: every lower-DB one; `all`: both. */
export const VERIFY_SCOPES = ['upper', 'lower', 'all'] as const;
export type VerifyScope = (typeof VERIFY_SCOPES)[number];

export interface VerifyOptions {
  readonly layout: StoreLayout;
  readonly signal: AbortSignal;
  readonly pool: WorkerPool;
  /**
   * Extra threads for adaptive concurrency: batches beyond two per `pool` thread go here, so that while the cache is
   * warm only `pool`'s threads (one per core) exist, and these start only when threads wait on the disk.
   */
  readonly ioPool?: WorkerPool;
  readonly scope: VerifyScope;
  /** Verify just these store paths (full paths in the store dir or the merged dir); `scope` is then ignored. */
  readonly paths?: readonly string[];
  /**
   * Pool tasks in flight (each a batch of objects, see verify-batches.ts): a number, or `adaptive` (start at two per
   * `pool` thread, and raise it up to two per thread of both pools while threads wait on the disk; see
   * hashing-concurrency.ts). Default: twice the pool's threads.
   */
  readonly concurrency?: number | 'adaptive';
  readonly onProgress?: (progress: MapProgress) => void;
}

export interface VerifyReport {
  readonly findings: readonly Finding[];
  /** Interrupted: only `checked` of `total` objects were hashed. */
  readonly partial: boolean;
  readonly scope: VerifyScope | 'paths';
  /** Objects to hash, and how many were (successfully or not). */
  readonly total: number;
  readonly checked: number;
  /** NAR bytes hashed. */
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * Verifies content. Each object is hashed where the merged view takes it from: an upper-DB path in the upper layer
 * when the upper layer has it, else in the lower layer; a lower-DB path in the lower layer. A path both DBs
 * register whose only copy is the lower one is hashed once and checked against both. Reads the layers directly,
 * so the overlay need not be mounted, and a stale merged view cannot hide anything.
 * Interrupting it (`signal`) resolves with `partial: true` and the findings so far.
 * @throws AuditError AUDIT_NO_LOWER_DB, AUDIT_LAYER_UNREADABLE, AUDIT_BAD_PATH, AUDIT_UNKNOWN_PATH; NixDbError.
 */
export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const { layout, signal, pool } = options;
  signal.throwIfAborted();
  const dbs = openAuditDbs(layout);
  const findings: Finding[] = [];
  let checked = 0;
  let bytes = 0;
  let total = 0;
  let partial = false;
  const scope = options.paths === undefined ? options.scope : 'paths';
  try {
    const plan = await planVerify(options, dbs.upper, dbs.lower, findings);
    total = plan.total;
    const adaptive = options.concurrency === 'adaptive';
    const ioPool = adaptive ? options.ioPool : undefined;
    const fixed = typeof options.concurrency === 'number' ? options.concurrency : 2 * pool.size;
    // Two batches in flight per thread: one hashing, one queued, so a thread never idles while its next task comes.
    const primaryCap = 2 * pool.size;
    const bounds = { min: primaryCap, max: primaryCap + 2 * (ioPool?.size ?? 0) };
    const gate = new Gate(adaptive ? bounds.min : fixed);
    const adapter = adaptive && ioPool !== undefined ? adaptEvery(gate, bounds) : undefined;
    let primaryInFlight = 0;
    let launched = 0;
    let failed = 0;
    const progress = progressReporter(options.onProgress, plan, () => ({ done: checked, failed, inFlight: launched - checked, bytes }));
    const outcomes = boundedMap(
      verifyBatches(plan.items),
      async (batch, batchSignal) => {
        await gate.enter(batchSignal);
        launched += batch.length;
        const primary = ioPool === undefined || primaryInFlight < primaryCap;
        if (primary) primaryInFlight++;
        try {
          return await (primary ? pool : ioPool).run({ type: 'nar-hash-batch', paths: batch.map((item) => item.file) }, batchSignal);
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
        outcome.item.forEach((item, at) => {
          checked++;
          const entry = outcome.ok ? outcome.value.results[at] : undefined;
          if (entry?.ok === true) {
            bytes += entry.narSize;
            findings.push(...judgeMeasurement(item, entry));
            return;
          }
          failed++;
          // A path's own failure reads as if it had been a task of its own (the same code, evidence and message).
          const error = outcome.ok ? toErrorReport(rebuildTaskError(entry?.error ?? MISSING_RESULT, { type: 'nar-hash', path: item.file })) : outcome.error;
          findings.push(judgeFailure(item, error));
        });
        progress(false);
      }
      progress(true);
    } catch (error) {
      if (!(error instanceof PoolAbortedError) && !signal.aborted) throw error;
      partial = true;
    } finally {
      if (adapter !== undefined) clearInterval(adapter);
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    partial = true;
  } finally {
    dbs.close();
  }
  return { findings: findings.sort(compareFindings), partial, scope, total, checked, bytes, seconds: (performance.now() - started) / 1000 };
}

/** Stands in for a result a worker left out (never expected: a batch answers for every path). */
const MISSING_RESULT: SerialisedError = { name: 'Error', code: 'POOL_TASK_FAILED', message: 'the worker returned no result for this path', evidence: {} };
/** Least time between progress events, as boundedMap's default. */
const PROGRESS_INTERVAL_MS = 250;

/** Progress in objects (not batches), at most every PROGRESS_INTERVAL_MS, the final event always; a no-op without `onProgress`. */
function progressReporter(onProgress: ((progress: MapProgress) => void) | undefined, plan: VerifyPlan, counts: () => ProgressCounts): (final: boolean) => void {
  const start = performance.now();
  let last = -Infinity;
  return (final) => {
    if (onProgress === undefined) return;
    const now = performance.now();
    if (!final && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    onProgress(computeProgress(counts(), { total: plan.total, totalBytes: plan.totalBytes }, now - start, final));
  };
}

/**
 * How often adaptive concurrency samples the threads, and how many samples make one decision: a cold cache is
 * recognised 100 ms in (a sample costs a /proc listing and two small reads per thread, about 30 syscalls).
 */
const SAMPLE_MS = 25;
const SAMPLES_PER_DECISION = 4;

/** Samples the worker threads waiting on the disk every SAMPLE_MS and resets the gate's limit every few samples. */
function adaptEvery(gate: Gate, bounds: ConcurrencyBounds): NodeJS.Timeout {
  let samples = 0;
  let waiting = 0;
  let quietIntervals = 0;
  const timer = setInterval(() => {
    const now = workerThreadsWaitingOnDisk();
    if (now === undefined) return clearInterval(timer);
    waiting += now;
    if (++samples < SAMPLES_PER_DECISION) return;
    quietIntervals = waiting === 0 ? quietIntervals + 1 : 0;
    gate.setLimit(nextConcurrency(gate.limit, { waitingOnDisk: waiting / samples, quietIntervals }, bounds));
    samples = 0;
    waiting = 0;
  }, SAMPLE_MS);
  timer.unref();
  return timer;
}

interface VerifyPlan {
  readonly items: Iterable<VerifyItem>;
  readonly total: number;
  readonly totalBytes: number | undefined;
}

/** Reads what is needed to know what to hash; pushes findings for registrations hidden by whiteouts. */
async function planVerify(options: VerifyOptions, upperDb: NixDb, lowerDb: NixDb, findings: Finding[]): Promise<VerifyPlan> {
  const { layout, signal } = options;
  const upperListing = await listLayer(layout.upperLayer, { signal });
  if (options.paths !== undefined) {
    const items = resolveVerifyPaths(options.paths, { layout, upperDb, lowerDb, upperListing }, findings);
    return { items, total: items.length, totalBytes: items.reduce((sum, item) => sum + (item.expected[0]?.narSize ?? 0), 0) };
  }
  const wantUpper = options.scope !== 'lower';
  const wantLower = options.scope !== 'upper';
  const upper = wantUpper ? await readDbIndex(upperDb, { names: true, hashes: true, sizes: true, signal }) : undefined;
  const lowerRead = wantLower ? await readDbIndex(lowerDb, { sizes: true, signal }) : undefined;
  const lower = lowerRead === undefined || upper === undefined ? lowerRead : joinIndexes(lowerRead, upper);
  // Upper rows the lower phase hashes (one lower copy, both DBs): skipped in the upper phase.
  const coveredByLower = new Uint8Array(upper?.count ?? 0);
  let total = 0;
  let totalBytes = 0;
  if (lower !== undefined) {
    total += lower.count;
    for (let row = 0; row < lower.count; row++) {
      totalBytes += lower.narSizes?.[row] ?? 0;
      const upperRow = lower.joined?.joinIndex[row] ?? -1;
      if (upperRow >= 0 && upperListing.keys.find(lower.keys.keyAt(row)) < 0) coveredByLower[upperRow] = 1;
    }
  }
  if (upper !== undefined) {
    const pathOf = pathResolver(upper, upperDb);
    for (let row = 0; row < upper.count; row++) {
      if (coveredByLower[row] === 1) continue;
      const id = upperListing.keys.find(upper.keys.keyAt(row));
      if (id >= 0 && upperListing.kinds[id] === KIND_CODE.whiteout) {
        findings.push(vanished(pathOf(row), `${layout.upperLayer}/${upper.names?.get(row) ?? ''}`, 'upper', ['upper'], 'whiteout'));
        coveredByLower[row] = 2; // settled: nothing to hash
        continue;
      }
      total++;
      totalBytes += upper.narSizes?.[row] ?? 0;
    }
  }
  const items = (function* (): Generator<VerifyItem> {
    if (lower !== undefined) yield* lowerItems(layout, lowerDb, lower, upper, upperListing);
    if (upper !== undefined) yield* upperItems(layout, upper, upperListing, coveredByLower);
  })();
  return { items, total, totalBytes };
}

/** Upper-DB rows not covered by the lower phase, each hashed in the layer the merged view takes it from. */
function* upperItems(layout: StoreLayout, upper: DbIndex, listing: LayerListing, covered: Uint8Array): Generator<VerifyItem> {
  const hashes = upper.narHashes!;
  for (let row = 0; row < upper.count; row++) {
    if (covered[row] !== 0) continue;
    const baseName = upper.names?.get(row) ?? '';
    const inUpper = listing.keys.find(upper.keys.keyAt(row)) >= 0;
    yield {
      path: `${upper.storeDir}/${baseName}`,
      file: `${inUpper ? layout.upperLayer : layout.lower.realStoreDir}/${baseName}`,
      layer: inUpper ? 'upper' : 'lower',
      expected: [{ db: 'upper', dbFile: upper.file, narHash: Buffer.from(hashes.subarray(row * 32, row * 32 + 32)), narSize: upper.narSizes?.[row] ?? 0 }],
    };
  }
}

/** Every lower-DB row, streamed from the DB again (names are not kept for a million rows), hashed in the lower layer. */
function* lowerItems(layout: StoreLayout, db: NixDb, lower: DbIndex, upper: DbIndex | undefined, listing: LayerListing): Generator<VerifyItem> {
  const scratch = Buffer.alloc(STORE_KEY_BYTES);
  for (const row of db.iterateValidPaths()) {
    const baseName = baseNameIn(db.storeDir, row.path);
    if (baseName === undefined || !packStoreKey(baseName, scratch, 0)) continue;
    const lowerRow = lower.keys.find(scratch);
    if (lowerRow < 0) continue; // registered after the index was read
    const expected: Expectation[] = [];
    const own = lowerExpectation(row.narHash, row.narSize, db.file);
    if (own !== undefined) expected.push(own);
    const upperRow = lower.joined?.joinIndex[lowerRow] ?? -1;
    if (upper !== undefined && upperRow >= 0 && listing.keys.find(scratch) < 0) {
      const hashes = upper.narHashes!;
      expected.push({ db: 'upper', dbFile: upper.file, narHash: Buffer.from(hashes.subarray(upperRow * 32, upperRow * 32 + 32)), narSize: upper.narSizes?.[upperRow] ?? 0 });
    }
    yield { path: row.path, file: `${layout.lower.realStoreDir}/${baseName}`, layer: 'lower', expected };
  }
}

function lowerExpectation(narHash: string, narSize: number, dbFile: string): Expectation | undefined {
  const hash = narHashBytes(narHash);
  return hash === undefined ? undefined : { db: 'lower', dbFile, narHash: hash, narSize };
}
