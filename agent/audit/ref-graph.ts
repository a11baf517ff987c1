/** Reads a Nix DB's Refs table into typed-array graphs over the rows of a DB index, and joins two DBs' references. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { LowerMetadata } from '../store/index.ts';
import { buildCsr, EdgeList, neighbours, type Csr } from './csr.ts';
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
  /** Row → rows referencing it (no self-edges); empty when not asked for. */
  readonly referrers: Csr;
  /** 1 where a row references itself. */
  readonly selfReferences: Uint8Array;
  readonly unknownReferences: readonly UnknownReference[];
}

/** What one DB says the rows of another reference: over the other index's rows, targets are rows of this one. */
export interface JoinedReferences {
  /** Per joined row: the referenced rows of this DB, self included. */
  readonly references: Csr;
  /** Per joined row: referenced ids this index does not hold. */
  readonly unknownCount: Uint32Array;
}

const BATCH_EDGES = 65_536;
const NO_REFERRERS: Csr = { offsets: new Uint32Array(1), targets: new Uint32Array(0) };

/**
 * Reads every Refs row of `db` (by id, streamed in batches, ordered by referrer) into a RefGraph over `index`'s
 * rows. The forward lists are filled as the rows come (no edge list in between); `referrers` (the reverse graph) is
 * built only when asked for. Edges whose referrer is not in the index (a skipped row) are dropped.
 * Rejects with `signal.reason` when aborted.
 */
export async function readRefGraph(
  db: LowerMetadata,
  index: DbIndex,
  options: { readonly referrers?: boolean; readonly signal?: AbortSignal } = {},
): Promise<RefGraph> {
  const offsets = new Uint32Array(index.count + 1);
  let targets = new Uint32Array(Math.max(1024, index.count * 2));
  let length = 0;
  const selfReferences = new Uint8Array(index.count);
  const unknownReferences: UnknownReference[] = [];
  let lastRow = -1;
  for (const batch of db.iterateReferenceIds(BATCH_EDGES)) {
    await yieldToEventLoop();
    options.signal?.throwIfAborted();
    let lastReferrerId = -1;
    let referrer = -1;
    for (let i = 0; i < batch.length; i += 2) {
      const referrerId = batch[i] as number;
      if (referrerId !== lastReferrerId) {
        lastReferrerId = referrerId;
        referrer = indexOfRowId(index.rowIds, index.count, referrerId);
        // Referrers come in id order, hence in row order: close the lists of the rows in between.
        if (referrer > lastRow) {
          for (let row = lastRow + 1; row <= referrer; row++) offsets[row] = length;
          lastRow = referrer;
        }
      }
      if (referrer < 0) continue;
      const referenceId = batch[i + 1] as number;
      if (referenceId === referrerId) {
        selfReferences[referrer] = 1;
        continue;
      }
      const reference = indexOfRowId(index.rowIds, index.count, referenceId);
      if (reference < 0) {
        unknownReferences.push({ row: referrer, referenceId });
        continue;
      }
      if (length === targets.length) {
        const grown = new Uint32Array(targets.length * 2);
        grown.set(targets);
        targets = grown;
      }
      targets[length++] = reference;
    }
  }
  for (let row = lastRow + 1; row <= index.count; row++) offsets[row] = length;
  const references: Csr = { offsets, targets: targets.length === length ? targets : targets.slice(0, length) };
  return { references, referrers: options.referrers === true ? reverse(references, index.count) : NO_REFERRERS, selfReferences, unknownReferences };
}

/** The reverse of a CSR graph over `count` nodes, by counting (pure; no edge list in between). */
export function reverse(graph: Csr, count: number): Csr {
  const offsets = new Uint32Array(count + 1);
  for (const target of graph.targets) offsets[target + 1]!++;
  for (let node = 0; node < count; node++) offsets[node + 1]! += offsets[node] as number;
  const cursor = offsets.slice(0, count);
  const targets = new Uint32Array(graph.targets.length);
  for (let node = 0; node < count; node++) for (const target of neighbours(graph, node)) targets[cursor[target]!++] = node;
  return { offsets, targets };
}

/**
 * What the lower DB says each joined upper row references (pure): for every lower row joined to an upper row
 * (`lower.joined.joinIndex`), its references and self-reference, as lower rows, listed under the upper row.
 */
export function joinReferences(lower: DbIndex, lowerGraph: RefGraph, upperCount: number): JoinedReferences {
  const joinIndex = lower.joined?.joinIndex;
  if (joinIndex === undefined) throw new Error('joinReferences needs a joined lower index (joinIndexes)');
  const edges = new EdgeList();
  const unknownCount = new Uint32Array(upperCount);
  for (let row = 0; row < lower.count; row++) {
    const upper = joinIndex[row] as number;
    if (upper < 0) continue;
    for (const target of neighbours(lowerGraph.references, row)) edges.add(upper, target);
    if (lowerGraph.selfReferences[row] === 1) edges.add(upper, row);
  }
  for (const unknown of lowerGraph.unknownReferences) {
    const upper = joinIndex[unknown.row] as number;
    if (upper >= 0) unknownCount[upper]!++;
  }
  return { references: buildCsr(edges.pairs(), upperCount), unknownCount };
}
