/** Reads a Nix DB's Refs table into typed-array graphs over the rows of a DB index: references, referrers, self-references. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { NixDb } from '../store/nix-db.ts';
import { buildCsr, EdgeList, type Csr } from './csr.ts';
import type { DbIndex } from './db-index.ts';
import { indexOfRowId } from './row-ids.ts';

/** A Refs row whose reference id is no row of the index (a dangling foreign key, or a row the index skipped). */
export interface UnknownReference {
  /** Row index of the referrer. */
  readonly row: number;
  /** The ValidPaths id it points to. */
  readonly referenceId: number;
}

/** The reference graph of one DB, over its index's rows; self-references are kept apart from the edges. */
export interface RefGraph {
  /** Row → rows it references (no self-edges). */
  readonly references: Csr;
  /** Row → rows referencing it (no self-edges). */
  readonly referrers: Csr;
  /** 1 where a row references itself. */
  readonly selfReferences: Uint8Array;
  readonly unknownReferences: readonly UnknownReference[];
}

/** Each referrer row of `index` that has a row in the joined index, with the rows (of `index`) it references. */
export interface JoinedReferences {
  /** Over the joined index's rows: the referenced rows of this DB (self included), as rows of this index. */
  readonly references: Csr;
  /** Per joined row: referenced ids this index does not hold. */
  readonly unknownCount: Uint32Array;
}

const YIELD_EVERY_BATCHES = 1;
const BATCH_EDGES = 65_536;

/**
 * Reads every Refs row of `db` (by id, streamed in batches) into a RefGraph over `index`'s rows.
 * Edges whose referrer is not in the index (a skipped row) are dropped. Rejects with `signal.reason` when aborted.
 */
export async function readRefGraph(db: NixDb, index: DbIndex, signal?: AbortSignal): Promise<RefGraph> {
  const edges = new EdgeList();
  const selfReferences = new Uint8Array(index.count);
  const unknownReferences: UnknownReference[] = [];
  let batches = 0;
  for (const batch of db.iterateReferenceIds(BATCH_EDGES)) {
    if (++batches % YIELD_EVERY_BATCHES === 0) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
    let lastReferrerId = -1;
    let lastReferrer = -1;
    for (let i = 0; i < batch.length; i += 2) {
      const referrerId = batch[i] as number;
      if (referrerId !== lastReferrerId) {
        lastReferrerId = referrerId;
        lastReferrer = indexOfRowId(index.rowIds, index.count, referrerId);
      }
      if (lastReferrer < 0) continue;
      const referenceId = batch[i + 1] as number;
      if (referenceId === referrerId) {
        selfReferences[lastReferrer] = 1;
        continue;
      }
      const reference = indexOfRowId(index.rowIds, index.count, referenceId);
      if (reference < 0) unknownReferences.push({ row: lastReferrer, referenceId });
      else edges.add(lastReferrer, reference);
    }
  }
  const pairs = edges.pairs();
  return { references: buildCsr(pairs, index.count), referrers: buildCsr(pairs, index.count, true), selfReferences, unknownReferences };
}

/**
 * Reads the Refs rows of `db` whose referrer is joined to a row of the other index (`index.joined`), as a CSR over
 * the other index's rows whose targets are rows of `index` (self-references included). Used to compare what two DBs
 * say one path references. Rejects with `signal.reason` when aborted.
 */
export async function readJoinedReferences(db: NixDb, index: DbIndex, joinedCount: number, signal?: AbortSignal): Promise<JoinedReferences> {
  const joinIndex = index.joined?.joinIndex;
  if (joinIndex === undefined) throw new Error('readJoinedReferences needs an index read with `join`');
  const edges = new EdgeList();
  const unknownCount = new Uint32Array(joinedCount);
  for (const batch of db.iterateReferenceIds(BATCH_EDGES)) {
    await yieldToEventLoop();
    signal?.throwIfAborted();
    let lastReferrerId = -1;
    let joinedRow = -1;
    for (let i = 0; i < batch.length; i += 2) {
      const referrerId = batch[i] as number;
      if (referrerId !== lastReferrerId) {
        lastReferrerId = referrerId;
        const row = indexOfRowId(index.rowIds, index.count, referrerId);
        joinedRow = row < 0 ? -1 : (joinIndex[row] as number);
      }
      if (joinedRow < 0) continue;
      const reference = indexOfRowId(index.rowIds, index.count, batch[i + 1] as number);
      if (reference < 0) unknownCount[joinedRow]!++;
      else edges.add(joinedRow, reference);
    }
  }
  return { references: buildCsr(edges.pairs(), joinedCount), unknownCount };
}
