/**
 * Runs the audit's bulk reads on threads of their own, so that listing a million directory entries and reading the
 * lower DB overlap with reading the upper DB on the main thread. One short-lived worker per job, not the worker
 * pool: a job returns a few packed arrays (moved, not copied) rather than per-item messages.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { siblingModuleUrl } from '../pool/worker-file.ts';
import { AuditError, type AuditErrorCode } from './audit-error.ts';
import type { DbIndex, SkippedRow } from './db-index.ts';
import { KeyTable, type KeyTableData } from './key-table.ts';
import type { EntriesAgainstIndex, LayerListing, OtherEntry } from './layer-listing.ts';
import type { RefGraph } from './ref-graph.ts';
import { StringPack, type StringPackData } from './string-pack.ts';
import { NixDbError, type NixDbErrorCode } from '../store/nix-db-error.ts';

/** One layer to list. */
export interface LayerRequest {
  readonly dir: string;
  /** Keep entry names. */
  readonly names: boolean;
  /** Entries expected (sizes the table). */
  readonly expected?: number;
}

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

export type AuditJob = { readonly kind: 'list-layers'; readonly layers: readonly LayerRequest[] } | { readonly kind: 'read-store'; readonly db: DbRequest };

/** A listing as it crosses the thread boundary. */
export interface ListingMessage {
  readonly dir: string;
  readonly keys: KeyTableData;
  readonly kinds: Uint8Array;
  readonly names: StringPackData | undefined;
  readonly others: readonly OtherEntry[];
}

/** A DB index, its reference graph and its layer's entries as they cross the thread boundary. */
export interface DbMessage {
  readonly index: Omit<DbIndex, 'keys' | 'names' | 'joined'> & { readonly keys: KeyTableData; readonly names: StringPackData | undefined };
  readonly graph: RefGraph;
  readonly entries: Omit<EntriesAgainstIndex, 'extra'> & { readonly extra: KeyTableData };
}

/** What reading a store off-thread yields. */
export interface StoreRead {
  readonly index: DbIndex;
  readonly graph: RefGraph;
  readonly entries: EntriesAgainstIndex;
}

export type JobReply =
  | { readonly ok: true; readonly kind: 'list-layers'; readonly listings: readonly ListingMessage[] }
  | { readonly ok: true; readonly kind: 'read-store'; readonly db: DbMessage }
  | { readonly ok: false; readonly error: { readonly name: string; readonly code: string; readonly message: string; readonly evidence: Record<string, unknown>; readonly hint?: string } };

const WORKER_FILE = fileURLToPath(siblingModuleUrl(import.meta.url, 'audit-thread-worker'));

/**
 * Lists each requested layer (in order) on a new thread. Aborting `signal` terminates it and rejects with the reason.
 * @throws AuditError AUDIT_LAYER_UNREADABLE as listLayer does.
 */
export async function listLayersOffThread(layers: readonly LayerRequest[], signal?: AbortSignal): Promise<LayerListing[]> {
  const reply = await runJob({ kind: 'list-layers', layers }, signal);
  if (reply.kind !== 'list-layers') throw new Error('the audit thread answered another job');
  return reply.listings.map(listingFromMessage);
}

/**
 * Reads a store on a new thread: its DB's index (keys, row ids, narHash fingerprints) and forward reference graph,
 * then its store dir listed against the index. Aborting `signal` terminates the thread and rejects with the reason.
 * @throws NixDbError as openNixDb and the readers do; AuditError AUDIT_LAYER_UNREADABLE as listLayer does.
 */
export async function readStoreOffThread(db: DbRequest, signal?: AbortSignal): Promise<StoreRead> {
  const reply = await runJob({ kind: 'read-store', db }, signal);
  if (reply.kind !== 'read-store') throw new Error('the audit thread answered another job');
  const { index, graph, entries } = reply.db;
  return {
    index: { ...index, keys: KeyTable.fromData(index.keys), names: index.names === undefined ? undefined : StringPack.fromData(index.names), joined: undefined, skipped: index.skipped as SkippedRow[] },
    graph,
    entries: { ...entries, extra: KeyTable.fromData(entries.extra) },
  };
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
    worker.once('message', (reply: JobReply) => finish(() => (reply.ok ? resolve(reply) : reject(rebuildError(reply.error)))));
    worker.once('error', (error) => finish(() => reject(error)));
    worker.once('exit', (code) => finish(() => reject(new Error(`the audit thread (${job.kind}) exited with code ${code} before answering`))));
  });
}

/** The error the thread reported, as the class it was (AuditError, NixDbError), so callers can branch on its code. */
function rebuildError(error: Extract<JobReply, { ok: false }>['error']): Error {
  const options = { evidence: error.evidence, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  if (error.name === 'NixDbError') return new NixDbError(error.code as NixDbErrorCode, error.message, options);
  if (error.name === 'AuditError') return new AuditError(error.code as AuditErrorCode, error.message, options);
  return new Error(error.message);
}

function listingFromMessage(message: ListingMessage): LayerListing {
  return {
    dir: message.dir,
    keys: KeyTable.fromData(message.keys),
    kinds: message.kinds,
    names: message.names === undefined ? undefined : StringPack.fromData(message.names),
    others: message.others,
  };
}
