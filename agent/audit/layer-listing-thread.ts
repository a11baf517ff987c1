/**
 * Lists layers on a thread of their own, so that reading a million directory entries overlaps with reading the
 * DBs on the main thread. One short-lived worker per audit, not the worker pool: its tasks return a few packed
 * arrays (moved, not copied) rather than per-entry messages.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { siblingModuleUrl } from '../pool/worker-file.ts';
import { AuditError, type AuditErrorCode } from './audit-error.ts';
import { KeyTable, type KeyTableData } from './key-table.ts';
import type { LayerListing, OtherEntry } from './layer-listing.ts';
import { StringPack, type StringPackData } from './string-pack.ts';

/** One layer to list. */
export interface LayerRequest {
  readonly dir: string;
  /** Keep entry names. */
  readonly names: boolean;
  /** Entries expected (sizes the table). */
  readonly expected?: number;
}

/** A listing as it crosses the thread boundary. */
export interface ListingMessage {
  readonly dir: string;
  readonly keys: KeyTableData;
  readonly kinds: Uint8Array;
  readonly names: StringPackData | undefined;
  readonly others: readonly OtherEntry[];
}

export type WorkerReply =
  | { readonly ok: true; readonly listings: readonly ListingMessage[] }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string; readonly evidence: Record<string, unknown>; readonly hint?: string } };

const WORKER_FILE = fileURLToPath(siblingModuleUrl(import.meta.url, 'layer-listing-worker'));

/**
 * Lists each requested layer (in order) on a new worker thread and resolves to their listings.
 * Aborting `signal` terminates the thread at once and rejects with `signal.reason`.
 * @throws AuditError AUDIT_LAYER_UNREADABLE as listLayer does; any other worker failure as an Error.
 */
export function listLayersOffThread(requests: readonly LayerRequest[], signal?: AbortSignal): Promise<LayerListing[]> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    // A small young generation: the thread makes a million short-lived Dirents, and a large nursery would only
    // hold more of them at once (the listing itself lives in ArrayBuffers, outside the V8 heap).
    const worker = new Worker(WORKER_FILE, { workerData: requests, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
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
    worker.once('message', (reply: WorkerReply) => {
      if (reply.ok) finish(() => resolve(reply.listings.map(fromMessage)));
      else finish(() => reject(new AuditError(reply.error.code as AuditErrorCode, reply.error.message, { evidence: reply.error.evidence, ...(reply.error.hint === undefined ? {} : { hint: reply.error.hint }) })));
    });
    worker.once('error', (error) => finish(() => reject(error)));
    worker.once('exit', (code) => finish(() => reject(new Error(`the layer listing thread exited with code ${code} before answering`))));
  });
}

/** Rebuilds a listing from its message (no copying or rehashing). */
export function fromMessage(message: ListingMessage): LayerListing {
  return {
    dir: message.dir,
    keys: KeyTable.fromData(message.keys),
    kinds: message.kinds,
    names: message.names === undefined ? undefined : StringPack.fromData(message.names),
    others: message.others,
  };
}
