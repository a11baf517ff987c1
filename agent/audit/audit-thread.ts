/**
 * Runs the audit's bulk reads on threads of their own, so that listing a million directory entries and reading the
 * lower DB overlap with reading the upper DB on the main thread, and SQLite's integrity checks (seconds of one
 * synchronous call on a big DB) overlap with everything and end when the run is stopped. One short-lived worker per
 * job, not the worker pool: a job returns a few packed arrays (moved, not copied) rather than per-item messages.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PoolWorkerError, siblingModuleUrl, rebuildThreadError, type SerialisedError } from '../pool/index.ts';
import type { IntegrityProbe } from '../store/index.ts';
import type { DbIndex, SkippedRow } from './db-index.ts';
import { KeyTable, type KeyTableData } from './key-table.ts';
import type { EntriesAgainstIndex } from './layer-listing.ts';
import type { RefGraph } from './ref-graph.ts';
import { StringPack, type StringPackData } from './string-pack.ts';
import type { StoreRead } from './read-store.ts';

/** A DB to read into an index (with 8-byte narHash fingerprints) and its forward reference graph, then its layer to list against it. */
export interface DbRequest {
  readonly file: string;
  readonly storeDir: string;
  readonly immutable: boolean;
  /** Rows expected (sizes the arrays). */
  readonly expected?: number;
  /** The store dir on disk of the store the DB describes, listed against the DB's keys (listLayerAgainst). */
  readonly layer: string;
}

/** A DB to run integrity checks on, opened on the thread as the main thread opened it (see NixDbOpenMode). */
export interface IntegrityRequest {
  readonly file: string;
  readonly storeDir: string;
  readonly immutable: boolean;
  readonly side: 'upper' | 'lower';
  readonly probes: readonly IntegrityProbe[];
}

/** What one integrity check of one DB found ([] when nothing). */
export interface IntegrityResult {
  readonly side: 'upper' | 'lower';
  readonly file: string;
  readonly probe: IntegrityProbe;
  readonly problems: readonly string[];
}

export type AuditJob =
  { readonly kind: 'read-store'; readonly db: DbRequest } | { readonly kind: 'check-integrity'; readonly dbs: readonly IntegrityRequest[] };

/** A DB index, its reference graph and its layer's entries as they cross the thread boundary. */
export interface DbMessage {
  readonly index: Omit<DbIndex, 'keys' | 'names' | 'joined'> & { readonly keys: KeyTableData; readonly names: StringPackData | undefined };
  readonly graph: RefGraph;
  readonly entries: Omit<EntriesAgainstIndex, 'extra'> & { readonly extra: KeyTableData };
}

export type JobReply =
  | { readonly ok: true; readonly kind: 'read-store'; readonly db: DbMessage }
  | { readonly ok: true; readonly kind: 'check-integrity'; readonly results: readonly IntegrityResult[] }
  | { readonly ok: false; readonly error: SerialisedError };

const WORKER_FILE = fileURLToPath(siblingModuleUrl(import.meta.url, 'audit-thread-worker'));

/**
 * Reads a store on a new thread: its DB's index (keys, row ids, narHash fingerprints) and forward reference graph,
 * then its store dir listed against the index; a DB read as a snapshot that Nix wrote meanwhile is NIX_DB_CHANGED.
 * Aborting `signal` terminates the thread and rejects with the reason.
 * @throws PoolTaskError with the code and evidence of the error on the thread (openNixDb's and the readers' NIX_DB_*,
 *   listLayerAgainst's AUDIT_LAYER_UNREADABLE); PoolWorkerError POOL_WORKER_FAILED when the thread dies without answering.
 */
export async function readStoreOffThread(db: DbRequest, signal?: AbortSignal): Promise<StoreRead> {
  const reply = await runJob({ kind: 'read-store', db }, signal);
  if (reply.kind !== 'read-store') throw new Error('the audit thread answered another job');
  const { index, graph, entries } = reply.db;
  return {
    index: {
      ...index,
      keys: KeyTable.fromData(index.keys),
      names: index.names === undefined ? undefined : StringPack.fromData(index.names),
      joined: undefined,
      skipped: index.skipped as SkippedRow[],
    },
    graph,
    entries: { ...entries, extra: KeyTable.fromData(entries.extra) },
  };
}

/**
 * Runs each request's integrity checks on a new thread (a connection of its own per DB, closed after), in order.
 * Aborting `signal` terminates the thread and rejects with the reason.
 * @throws PoolTaskError with the code and evidence of the error on the thread (NIX_DB_CHANGED when a snapshot with
 *   problems was written meanwhile, other NIX_DB_*); PoolWorkerError POOL_WORKER_FAILED.
 */
export async function checkIntegrityOffThread(dbs: readonly IntegrityRequest[], signal?: AbortSignal): Promise<readonly IntegrityResult[]> {
  if (dbs.length === 0) return [];
  const reply = await runJob({ kind: 'check-integrity', dbs }, signal);
  if (reply.kind !== 'check-integrity') throw new Error('the audit thread answered another job');
  return reply.results;
}

function runJob(job: AuditJob, signal: AbortSignal | undefined): Promise<Extract<JobReply, { ok: true }>> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    // A small young generation: the thread makes a million short-lived objects (Dirents, rows), and a large nursery
    // would only hold more of them at once; what it keeps lives in ArrayBuffers, outside the V8 heap.
    const worker = new Worker(WORKER_FILE, { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      action();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: JobReply) =>
      finish(() => (reply.ok ? resolve(reply) : reject(rebuildThreadError(reply.error, { evidence: { job: job.kind } })))),
    );
    worker.once('error', (error) =>
      finish(() => reject(new PoolWorkerError(`the audit thread (${job.kind}) failed: ${error.message}`, { cause: error, evidence: { job: job.kind } }))),
    );
    worker.once('exit', (code) =>
      finish(() =>
        reject(
          new PoolWorkerError(`the audit thread (${job.kind}) exited with code ${code} before answering`, { evidence: { job: job.kind, exitCode: code } }),
        ),
      ),
    );
  });
}
