/** Runs the store audit: gathers the facts (both DBs read-only, both layers listed) once, then runs the pure deciders. */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { messageOf } from '../errors/index.ts';
import { compareFindings, type Finding } from '../findings/index.ts';
import { allocatedBytesFreedByRemovalSync, type WorkerPool } from '../pool/index.ts';
import type { LowerMetadata, StoreLayout } from '../store/index.ts';
import type { AuditFacts, PairComparison } from './audit-facts.ts';
import { joinIndexes, pathResolver, readDbIndex } from './db-index.ts';
import { duplicateIds, findDuplicates } from './find-duplicate.ts';
import { findBrokenClosures } from './find-broken-closure.ts';
import { findDangling } from './find-dangling.ts';
import { findDiverged } from './find-diverged.ts';
import { findMasked } from './find-masked.ts';
import { findStrays } from './find-stray.ts';
import { keySetAgainst, KIND_CODE, listLayer } from './layer-listing.ts';
import { applyOverlayMarks } from './layer-marks.ts';
import { readStoreOffThread } from './audit-thread.ts';
import { lowerMetadataPartial } from './lower-metadata-partial.ts';
import { readStore } from './read-store.ts';
import { locateRows } from './locate.ts';
import { checkDbIntegrity, DB_INTEGRITY_PROBES, withAuditDbs, type AuditDbs } from './open-dbs.ts';
import { joinReferences, readRefGraph } from './ref-graph.ts';

/** The phases of an audit, in order, as progress reports name them. */
export const AUDIT_PHASES = ['upper-db', 'layers', 'lower-db', 'db-integrity', 'xattrs', 'duplicates', 'hash-duplicates', 'decide'] as const;
export type AuditPhase = (typeof AUDIT_PHASES)[number];

export interface AuditProgress {
  readonly phase: AuditPhase;
  /** Items done in this phase (rows, entries, duplicates), when it counts them. */
  readonly done: number;
  /** Items in this phase, when known. */
  readonly total: number | undefined;
  /** Bytes hashed so far (hash-duplicates only). */
  readonly bytes: number;
}

export interface AuditOptions {
  readonly layout: StoreLayout;
  readonly signal: AbortSignal;
  /** Hash both copies of each duplicate on `pool` (compare-pair tasks). Default false. */
  readonly hashDuplicates?: boolean;
  /** Needed when hashDuplicates. */
  readonly pool?: WorkerPool;
  /** Compare the references both DBs record for a path (streams the lower DB's Refs). Default true. */
  readonly compareReferences?: boolean;
  readonly onProgress?: (progress: AuditProgress) => void;
  /** The getfattr executable (tests point it elsewhere). Default `getfattr` on PATH. */
  readonly getfattr?: string;
}

export interface AuditStats {
  readonly upperRegistrations: number;
  readonly lowerRegistrations: number;
  readonly upperEntries: number;
  readonly lowerEntries: number;
  readonly duplicates: number;
  /** ValidPaths rows left out because their path is not a store path (see the DB index). */
  readonly skippedRows: number;
  readonly seconds: number;
  /** Milliseconds per phase that ran. */
  readonly phaseMs: Readonly<Partial<Record<AuditPhase, number>>>;
}

export interface AuditReport {
  /** Errors first (compareFindings). */
  readonly findings: readonly Finding[];
  /** True when the run was interrupted: findings cover only what was examined. */
  readonly partial: boolean;
  /** The phase the run was in when interrupted. */
  readonly interruptedIn: AuditPhase | undefined;
  readonly stats: AuditStats;
}

/**
 * Audits the store `layout` describes. Interrupting it (`signal`) resolves with `partial: true` and whatever could
 * be decided from the facts gathered so far (nothing before the DBs and layers are read; duplicates not yet
 * measured or hashed are reported without bytes or hashes). Never writes anything, and creates nothing beside the
 * DBs. SQLite's integrity check of the upper DB's ValidPaths runs alongside (`store.db-corrupt`). A DB Nix writes while it is read
 * without locks is read again (withAuditDbs), with the whole audit. The lower metadata comes from the lower DB or,
 * for a daemon lower store, from its daemon; what a daemon refused to answer is one `store.lower-metadata-partial`.
 * @throws AuditError AUDIT_NO_LOWER_DB, AUDIT_LAYER_UNREADABLE; NixDbError when a DB cannot be opened or read
 *   (NIX_DB_CHANGED when Nix kept writing it through every attempt); DaemonError when the lower store's daemon
 *   cannot be read (connect, a dropped connection or a timeout mid-read, naming the op).
 */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  options.signal.throwIfAborted();
  return withAuditDbs(options.layout, options.signal, (dbs) => auditWith(options, dbs));
}

async function auditWith(options: AuditOptions, dbs: AuditDbs): Promise<AuditReport> {
  const started = performance.now();
  const { layout, signal } = options;
  const phaseMs: Partial<Record<AuditPhase, number>> = {};
  let phase: AuditPhase = 'upper-db';
  let phaseStart = performance.now();
  const enter = (next: AuditPhase): void => {
    phaseMs[phase] = (phaseMs[phase] ?? 0) + performance.now() - phaseStart;
    phase = next;
    phaseStart = performance.now();
  };
  const report = (done: number, total?: number, bytes = 0): void => options.onProgress?.({ phase, done, total, bytes });
  // Counting first costs a scan (about 0.2 s per million rows) but sizes every array exactly: no slack, no copies.
  const upperCount = dbs.upper.countValidPaths();
  const lowerCount = dbs.lower.countValidPaths();
  // The lower store (its DB, then its store dir listed against it) is read on a thread of its own while the upper
  // DB and layer are read here.
  // Ended when the run ends, however it ends, so the thread never outlives the audit.
  const stopThread = new AbortController();
  const lowerSignal = AbortSignal.any([signal, stopThread.signal]);
  const lowerDbFile = dbs.lowerDb;
  // A daemon's snapshot is in this thread's memory already (its reading was the daemon's work and the socket's):
  // its index is built here, interleaved with the upper DB's reading.
  const lowerRead =
    lowerDbFile === undefined
      ? readStore(dbs.lower, layout.lower.realStoreDir, { expected: lowerCount, signal: lowerSignal })
      : readStoreOffThread(
          {
            file: lowerDbFile.file,
            storeDir: lowerDbFile.storeDir,
            immutable: lowerDbFile.mode === 'immutable',
            expected: lowerCount,
            layer: layout.lower.realStoreDir,
          },
          lowerSignal,
        );
  lowerRead.catch(() => undefined); // awaited below; an early abort or error must not leave it unhandled
  // SQLite's integrity check of the upper DB, on another thread, alongside everything else.
  const checked = checkDbIntegrity(dbs, DB_INTEGRITY_PROBES.audit, AbortSignal.any([signal, stopThread.signal]));
  checked.catch(() => undefined);
  const stats = (facts: Partial<AuditFacts>, duplicates: number): AuditStats => ({
    upperRegistrations: facts.upperDb?.count ?? 0,
    lowerRegistrations: facts.lowerDb?.count ?? 0,
    upperEntries: (facts.upperListing?.keys.size ?? 0) + (facts.upperListing?.others.length ?? 0),
    lowerEntries: facts.lowerEntries?.size ?? 0,
    duplicates,
    skippedRows: (facts.upperDb?.skippedCount ?? 0) + (facts.lowerDb?.skippedCount ?? 0),
    seconds: (performance.now() - started) / 1000,
    phaseMs,
  });
  let facts: AuditFacts;
  const integrity: Finding[] = [];
  try {
    report(0);
    // No names: a report names few rows, and those are looked up by hash part (pathResolver).
    const upperDb = await readDbIndex(dbs.upper, { hashes: true, expected: upperCount, signal, onRows: (rows) => report(rows, upperCount) });
    const upperGraph = await readRefGraph(dbs.upper, upperDb, { referrers: true, signal });
    enter('layers');
    report(0);
    const upperListing = await listLayer(layout.upperLayer, { names: true, signal, onEntries: (entries) => report(entries) });
    enter('lower-db');
    report(0, lowerCount);
    const lower = await lowerRead;
    enter('db-integrity');
    report(0);
    integrity.push(...(await checked));
    const lowerDb = joinIndexes(lower.index, upperDb);
    const lowerReferences = options.compareReferences === false ? undefined : joinReferences(lowerDb, lower.graph, upperDb.count);
    const lowerEntries = keySetAgainst(lower.entries, lowerDb.keys);
    enter('xattrs');
    // Opaque dirs matter over lower-valid paths (store.masked); a whiteout, over anything the lower layer has.
    const candidates: number[] = [];
    for (let id = 0; id < upperListing.keys.size; id++) {
      const kind = upperListing.kinds[id];
      const key = upperListing.keys.keyAt(id);
      const lowerValid = lowerDb.keys.find(key) >= 0;
      if ((kind === KIND_CODE.directory && lowerValid) || (kind === KIND_CODE.file && (lowerValid || lowerEntries.has(key)))) candidates.push(id);
    }
    report(0, candidates.length);
    const xattrs = await applyOverlayMarks(upperListing, candidates, { signal, ...(options.getfattr === undefined ? {} : { getfattr: options.getfattr }) });
    facts = {
      storeDir: layout.storeDir,
      upperLayer: layout.upperLayer,
      lowerStoreDir: layout.lower.realStoreDir,
      upperDb,
      upperPathOf: pathResolver(upperDb, dbs.upper),
      upperGraph,
      lowerDb,
      lowerReferences,
      upperListing,
      lowerEntries,
      xattrs,
      duplicateBytes: new Map(),
      pairs: new Map(),
      duplicateErrors: new Map(),
    };
  } catch (error) {
    stopThread.abort();
    if (!signal.aborted) throw error;
    enter(phase);
    return { findings: integrity.sort(compareFindings), partial: true, interruptedIn: phase, stats: stats({}, 0) };
  }
  const duplicates = duplicateIds(facts);
  let interruptedIn: AuditPhase | undefined;
  try {
    enter('duplicates');
    await measureDuplicates(facts, duplicates, signal, (done) => report(done, duplicates.length));
    if (options.hashDuplicates === true) {
      enter('hash-duplicates');
      await hashDuplicates(facts, duplicates, options.pool, signal, (done, bytes) => report(done, duplicates.length, bytes));
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    interruptedIn = phase;
  }
  enter('decide');
  const findings = [...decide(facts, dbs.lower), ...integrity, ...lowerMetadataPartial(dbs.lower)].sort(compareFindings);
  enter('decide');
  if (interruptedIn === undefined) dbs.assertUnchanged('auditing');
  return { findings, partial: interruptedIn !== undefined, interruptedIn, stats: stats(facts, duplicates.length) };
}

/** Runs every decider over the facts; errors first. `lowerDb` (still open) supplies references for diverged evidence. */
export function decide(facts: AuditFacts, lowerDb?: LowerMetadata): Finding[] {
  const locations = locateRows(facts.upperDb, facts.upperListing, facts.lowerEntries);
  const findings = [
    ...findDangling(facts, locations),
    ...findBrokenClosures(facts, locations),
    ...findMasked(facts),
    ...findDiverged(
      facts,
      lowerDb === undefined ? {} : { referencesOf: (path) => lowerDb.queryReferences(path), narHashOf: (path) => lowerDb.queryPathInfo(path)?.narHash },
    ),
    ...findDuplicates(facts),
    ...findStrays(facts),
  ];
  return findings.sort(compareFindings);
}

/** Disk usage of each duplicate's upper copy (what removing it frees), on this thread: small trees, few of them. */
async function measureDuplicates(facts: AuditFacts, ids: readonly number[], signal: AbortSignal, onDone: (done: number) => void): Promise<void> {
  const bytes = facts.duplicateBytes as Map<number, number>;
  const errors = facts.duplicateErrors as Map<number, string>;
  let lastYield = performance.now();
  for (const [done, id] of ids.entries()) {
    if (performance.now() - lastYield > 20) {
      onDone(done);
      await yieldToEventLoop();
      signal.throwIfAborted();
      lastYield = performance.now();
    }
    try {
      bytes.set(id, allocatedBytesFreedByRemovalSync(`${facts.upperListing.dir}/${facts.upperListing.names?.get(id) ?? ''}`));
    } catch (error) {
      errors.set(id, messageOf(error));
    }
  }
  onDone(ids.length);
}

/** Hashes both copies of each duplicate on the pool (compare-pair tasks); a failure is recorded for its duplicate. */
async function hashDuplicates(
  facts: AuditFacts,
  ids: readonly number[],
  pool: WorkerPool | undefined,
  signal: AbortSignal,
  onDone: (done: number, bytes: number) => void,
): Promise<void> {
  if (pool === undefined) throw new Error('runAudit: hashDuplicates needs a pool');
  const pairs = facts.pairs as Map<number, PairComparison>;
  const errors = facts.duplicateErrors as Map<number, string>;
  const nameOf = (id: number): string => facts.upperListing.names?.get(id) ?? '';
  const outcomes = pool.map(
    ids,
    (id) => ({ type: 'compare-pair' as const, upperPath: `${facts.upperListing.dir}/${nameOf(id)}`, lowerPath: `${facts.lowerStoreDir}/${nameOf(id)}` }),
    {
      signal,
      total: ids.length,
      onProgress: (progress) => onDone(progress.done, progress.bytes),
    },
  );
  for await (const outcome of outcomes) {
    if (!outcome.ok) {
      errors.set(outcome.item, outcome.error.message);
      continue;
    }
    const { upper, lower, equal, upperBytes } = outcome.value;
    pairs.set(outcome.item, { equal, upperHash: `sha256:${upper.hash}`, lowerHash: `sha256:${lower.hash}` });
    (facts.duplicateBytes as Map<number, number>).set(outcome.item, upperBytes);
  }
}
