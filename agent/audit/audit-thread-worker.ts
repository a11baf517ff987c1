/** Worker-thread entry of the audit's bulk reads (audit-thread.ts): runs one job and posts the packed result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { serialiseError } from '../pool/index.ts';
import { openNixDb } from '../store/index.ts';
import type { AuditJob, DbMessage, IntegrityRequest, IntegrityResult, JobReply } from './audit-thread.ts';
import { readStore } from './read-store.ts';

const job = workerData as AuditJob;
const transfer: ArrayBuffer[] = [];
/** Marks the arrays' memory to be moved to the main thread rather than copied. */
const move = (...arrays: ReadonlyArray<ArrayBufferView | undefined>): void => {
  for (const array of arrays) if (array !== undefined && !transfer.includes(array.buffer as ArrayBuffer)) transfer.push(array.buffer as ArrayBuffer);
};

async function readDbStore(request: Extract<AuditJob, { kind: 'read-store' }>['db']): Promise<DbMessage> {
  const db = openNixDb(request.file, { storeDir: request.storeDir, immutable: request.immutable });
  try {
    const { index, graph, entries } = await readStore(db, request.layer, request.expected === undefined ? {} : { expected: request.expected });
    db.assertUnchanged('reading the DB on the audit thread');
    const extra = entries.extra.export();
    move(entries.inIndex, extra.keys, extra.slots);
    const keys = index.keys.export();
    const names = index.names?.export();
    move(keys.keys, keys.slots, index.rowIds, index.narFingerprints, index.narHashes, index.narSizes, names?.bytes, names?.ends);
    move(graph.references.offsets, graph.references.targets, graph.selfReferences);
    const { keys: _keys, names: _names, joined: _joined, ...rest } = index;
    return { index: { ...rest, keys, names }, graph, entries: { ...entries, extra } };
  } finally {
    db.close();
  }
}

function checkIntegrity(requests: readonly IntegrityRequest[]): IntegrityResult[] {
  return requests.flatMap(({ file, storeDir, immutable, side, probes }) => {
    const db = openNixDb(file, { storeDir, immutable });
    try {
      return probes.map((probe) => ({ side, file, probe, problems: db.checkIntegrity(probe) }));
    } finally {
      db.close();
    }
  });
}

let reply: JobReply;
try {
  reply =
    job.kind === 'read-store'
      ? { ok: true, kind: 'read-store', db: await readDbStore(job.db) }
      : { ok: true, kind: 'check-integrity', results: checkIntegrity(job.dbs) };
} catch (error) {
  reply = { ok: false, error: serialiseError(error) };
  transfer.length = 0;
}
parentPort?.postMessage(reply, transfer);
