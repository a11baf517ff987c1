/** Worker-thread entry of listLayersOffThread: lists each requested layer and posts the packed listings back. */
import { parentPort, workerData } from 'node:worker_threads';
import { WardenError } from '../errors/index.ts';
import { listLayer } from './layer-listing.ts';
import type { LayerRequest, ListingMessage, WorkerReply } from './layer-listing-thread.ts';

const requests = workerData as readonly LayerRequest[];
let reply: WorkerReply;
const transfer: ArrayBuffer[] = [];
try {
  const listings: ListingMessage[] = [];
  for (const request of requests) {
    const listing = await listLayer(request.dir, { names: request.names, ...(request.expected === undefined ? {} : { expected: request.expected }) });
    const keys = listing.keys.export();
    const names = listing.names?.export();
    transfer.push(keys.keys.buffer as ArrayBuffer, keys.slots.buffer as ArrayBuffer, listing.kinds.buffer as ArrayBuffer);
    if (names !== undefined) transfer.push(names.bytes.buffer as ArrayBuffer, names.ends.buffer as ArrayBuffer);
    listings.push({ dir: listing.dir, keys, kinds: listing.kinds, names, others: listing.others });
  }
  reply = { ok: true, listings };
} catch (error) {
  const body = error instanceof WardenError ? error.toJSON() : { code: 'AUDIT_LAYER_UNREADABLE', message: error instanceof Error ? error.message : String(error), evidence: {} };
  reply = { ok: false, error: { ...body, evidence: { ...body.evidence } } };
  transfer.length = 0;
}
parentPort?.postMessage(reply, transfer);
