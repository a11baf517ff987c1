/** Content verification: reads the DBs and the upper layer, plans, hashes in the worker pools, judges (the I/O around the pure parts). */
import { performance } from 'node:perf_hooks';
import { compareFindings, type Finding } from '../findings/index.ts';
import type { MapProgress, WorkerPool } from '../pool/index.ts';
import { STORE_PATH_KEY_BYTES, writeStorePathKey, type StoreLayout } from '../store/index.ts';
import { readDbIndex } from './db-index.ts';
import { idsOfKind, kindAt, listLayer, type LayerListing } from './layer-listing.ts';
import { applyOverlayMarks } from './layer-marks.ts';
import { lowerMetadataPartial } from './lower-metadata-partial.ts';
import { checkDbIntegrity, DB_INTEGRITY_PROBES, withAuditDbs, type AuditDbs } from './open-dbs.ts';
import { verifyBatches } from './verify-batches.ts';
import { judgeBatch } from './verify-judge.ts';
import { userPathBaseName } from './verify-paths.ts';
import { planPaths, type PathRequest } from './verify-plan-paths.ts';
import { idsToLookUp, planScope, type Registrations, type VerifyPlan } from './verify-plan.ts';
import { hashBatches, type HashRun } from './verify-scheduler.ts';

/** `upper`: every upper-DB registration (what Nix's verify of the overlay store checks); `lower`: every lower-DB one; `all`: both. */
export const VERIFY_SCOPES = ['upper', 'lower', 'all'] as const;
export type VerifyScope = (typeof VERIFY_SCOPES)[number];

export interface VerifyOptions {
  readonly layout: StoreLayout;
  readonly signal: AbortSignal;
  readonly pool: WorkerPool;
  /**
   * Extra threads for adaptive concurrency: batches beyond two per `pool` thread go here, so that while the cache is
   * warm only `pool`'s threads (one per core) exist, and these start only when reads come from storage.
   */
  readonly ioPool?: WorkerPool;
  readonly scope: VerifyScope;
  /** Verify just these store paths (full paths in the store dir or the merged dir); `scope` is then ignored. */
  readonly paths?: readonly string[];
  /**
   * Pool tasks in flight (each a batch of objects, see verify-batches.ts): a number, or `adaptive` (start at two per
   * `pool` thread, and raise it up to two per thread of both pools while reads come from storage; see
   * hashing-concurrency.ts). Default: twice the pool's threads.
   */
  readonly concurrency?: number | 'adaptive';
  readonly onProgress?: (progress: MapProgress) => void;
  /**
   * Run SQLite's integrity checks of the DBs alongside (default true). Work done in chunks (the agent's scrub) runs
   * them with one chunk of a pass, not with each: on a big lower DB they take seconds.
   */
  readonly integrityChecks?: boolean;
}

export interface VerifyReport {
  readonly findings: readonly Finding[];
  /** Interrupted: only `checked` of `total` objects were hashed. */
  readonly partial: boolean;
  readonly scope: VerifyScope | 'paths';
  /** Objects to hash, and how many were (successfully or not). */
  readonly total: number;
  readonly checked: number;
  /** NAR bytes of the served objects hashed (lower copies hashed beside them are not counted). */
  readonly bytes: number;
  readonly seconds: number;
  /** What was not checked, in words: the lower DB's integrity checks when the lower metadata comes from a daemon. */
  readonly notComputed: readonly string[];
}

/**
 * Verifies content, judging every path by what the merged view serves for it: the upper layer's object (merged over
 * the lower copy where OverlayFS merges: a directory that is not opaque, a metacopy file) when the upper layer has
 * one, else the lower layer's; a path a whiteout hides is `store.masked`. Where the upper layer shadows a lower copy,
 * that copy is hashed too, so a report says which copy matches the DB. The served object is computed from the layers
 * (see narHashOfMergedSync), not read through the merged store dir: verify then works where the overlay is not
 * mounted or not visible (another mount namespace, a saved pair of layers), and a stale view, which can serve what
 * the layers no longer hold until a remount, cannot hide a difference. See planScope and planPaths for what is
 * judged against which DB. Interrupting it (`signal`) resolves with `partial: true` and the findings so far.
 * SQLite's integrity checks of both DBs run alongside, on a thread of their own (`store.db-corrupt`;
 * DB_INTEGRITY_PROBES). Nothing is created beside the DBs; a DB Nix writes while it is read without locks is read
 * again (withAuditDbs). With a daemon lower store, the lower metadata comes from the daemon (no lower DB to check:
 * its integrity checks are not computed); what it refused is one `store.lower-metadata-partial`.
 * @throws AuditError AUDIT_NO_LOWER_DB, AUDIT_LAYER_UNREADABLE, AUDIT_BAD_PATH, AUDIT_UNKNOWN_PATH; NixDbError;
 *   DaemonError when the lower store's daemon cannot be read.
 */
export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  options.signal.throwIfAborted();
  // Given paths need only their own lower metadata: a daemon is asked about them alone.
  const lowerOptions = options.paths === undefined ? {} : { paths: lowerPathsOf(options.paths, options.layout) };
  return withAuditDbs(options.layout, options.signal, (dbs) => verifyWith(options, dbs), lowerOptions);
}

async function verifyWith(options: VerifyOptions, dbs: AuditDbs): Promise<VerifyReport> {
  const started = performance.now();
  const { signal } = options;
  const findings: Finding[] = [];
  let total = 0;
  let run: HashRun = { checked: 0, bytes: 0, partial: false };
  const scope = options.paths === undefined ? options.scope : 'paths';
  // SQLite's integrity checks of both DBs, on a thread of their own while the plan is read and the objects hashed.
  const stopChecks = new AbortController();
  const probes =
    options.integrityChecks === false ? NO_INTEGRITY_PROBES : options.paths === undefined ? DB_INTEGRITY_PROBES.verify : DB_INTEGRITY_PROBES.verifyPaths;
  const integrityChecked = checkDbIntegrity(dbs, probes, AbortSignal.any([signal, stopChecks.signal]));
  integrityChecked.catch(() => undefined); // awaited below; an early abort or error must not leave it unhandled
  try {
    const plan = await readPlan(options, dbs);
    // Everything but the lower rows of a `lower` or `all` scope is read by now; those are checked at the end.
    dbs.assertUnchanged('planning');
    findings.push(...plan.findings, ...lowerMetadataPartial(dbs.lower));
    total = plan.total;
    const { pool, ioPool, concurrency, onProgress } = options;
    const totals = { total: plan.total, totalBytes: plan.totalBytes };
    run = await hashBatches(verifyBatches(plan.items), { signal, pool, ioPool, concurrency, onProgress, totals }, (outcome) => {
      const judged = judgeBatch(outcome);
      findings.push(...judged.findings);
      return judged;
    });
    findings.push(...(await integrityChecked));
  } catch (error) {
    stopChecks.abort();
    if (!signal.aborted) throw error;
    run = { ...run, partial: true };
  }
  if (!run.partial) dbs.lower.assertUnchanged('verifying');
  const { partial, checked, bytes } = run;
  const notComputed =
    dbs.lowerDb === undefined && probes.lower.length > 0
      ? [`SQLite's integrity check of the lower DB (${probes.lower.join(', ')}): the lower metadata comes from ${dbs.lower.source}, with no DB file here`]
      : [];
  return { findings: findings.sort(compareFindings), partial, scope, total, checked, bytes, seconds: (performance.now() - started) / 1000, notComputed };
}

/** No integrity checks (VerifyOptions.integrityChecks false). */
const NO_INTEGRITY_PROBES = { upper: [], lower: [] } as const;

/** Reads what planning needs (the upper layer's listing; the DB indexes of the scope, or the given paths' rows) and plans. */
async function readPlan(options: VerifyOptions, dbs: AuditDbs): Promise<VerifyPlan> {
  const { layout, signal } = options;
  const upperListing = await listLayer(layout.upperLayer, { names: true, signal });
  // An empty file there may be a whiteout in its xattr form: nothing to hash, the path is hidden. Given paths need
  // only their own files read (a scrub chunk of 256 paths in an upper layer of thousands of files).
  const files = options.paths === undefined ? idsOfKind(upperListing, 'file') : givenFileIds(options.paths, layout, upperListing);
  await applyOverlayMarks(upperListing, files, { signal });
  if (options.paths !== undefined) {
    return planPaths(lookUpPaths(options.paths, layout, dbs), { places: layout, upperListing, upperDb: dbs.upper.file, lowerDb: dbs.lower.source });
  }
  const upper = options.scope !== 'lower' ? await readDbIndex(dbs.upper, { names: true, hashes: true, sizes: true, signal }) : undefined;
  const lower = options.scope !== 'upper' ? await readDbIndex(dbs.lower, { sizes: true, signal }) : undefined;
  // Read again only as the items are pulled, once hashing starts.
  const lowerRows = { [Symbol.iterator]: () => dbs.lower.iterateValidPaths() };
  const registrations = lookUpRegistrations(idsToLookUp(upperListing, upper, lower), upperListing, dbs);
  return planScope({ places: layout, upperListing, upper, lower, lowerRows, registrations, dbFiles: { upper: dbs.upper.file, lower: dbs.lower.source } });
}

/** The listing ids of the given paths that are files in the upper layer; a path planning refuses is left to it. */
function givenFileIds(paths: readonly string[], layout: StoreLayout, listing: LayerListing): number[] {
  const key = Buffer.alloc(STORE_PATH_KEY_BYTES);
  const ids: number[] = [];
  for (const given of paths) {
    let baseName: string;
    try {
      baseName = userPathBaseName(layout, given);
    } catch {
      continue;
    }
    const id = writeStorePathKey(baseName, key, 0) ? listing.keys.find(key) : -1;
    if (id >= 0 && kindAt(listing, id) === 'file') ids.push(id);
  }
  return ids;
}

/** Both DBs' rows for the given upper-layer entries (few: see idsToLookUp), one indexed query each. */
function lookUpRegistrations(ids: readonly number[], listing: LayerListing, dbs: AuditDbs): Map<number, Registrations> {
  const registrations = new Map<number, Registrations>();
  for (const id of ids) {
    const baseName = listing.names?.get(id) ?? '';
    registrations.set(id, {
      upper: dbs.upper.queryPathInfo(`${dbs.upper.storeDir}/${baseName}`),
      lower: dbs.lower.queryPathInfo(`${dbs.lower.storeDir}/${baseName}`),
    });
  }
  return registrations;
}

/** Each given path's registrations in both DBs, looked up one path at a time as planning asks for it. */
function* lookUpPaths(paths: readonly string[], layout: StoreLayout, dbs: AuditDbs): Generator<PathRequest> {
  for (const given of paths) {
    const baseName = userPathBaseName(layout, given);
    const path = `${layout.storeDir}/${baseName}`;
    yield { baseName, upper: dbs.upper.queryPathInfo(path), lower: dbs.lower.queryPathInfo(path) };
  }
}

/** The lower store paths of the given paths that name one (the others are refused by planning, with their error). */
function lowerPathsOf(paths: readonly string[], layout: StoreLayout): string[] {
  return paths.flatMap((given) => {
    try {
      return [`${layout.lower.storeDir}/${userPathBaseName(layout, given)}`];
    } catch {
      return [];
    }
  });
}
