/** Reads a store's metadata into the audit's packed index and reference graph, then lists its layer against them. */
import type { LowerMetadata } from '../store/index.ts';
import { readDbIndex, type DbIndex } from './db-index.ts';
import { listLayerAgainst, type EntriesAgainstIndex } from './layer-listing.ts';
import { readRefGraph, type RefGraph } from './ref-graph.ts';

/** What reading a store yields. */
export interface StoreRead {
  readonly index: DbIndex;
  readonly graph: RefGraph;
  readonly entries: EntriesAgainstIndex;
}

/**
 * Reads `metadata`'s index (keys, row ids, narHash fingerprints) and forward reference graph, then lists `layer`
 * against the index. Rejects with `signal.reason` when aborted; the metadata's errors and listLayerAgainst's
 * (AUDIT_LAYER_UNREADABLE) pass through.
 */
export async function readStore(
  metadata: LowerMetadata,
  layer: string,
  options: { readonly expected?: number; readonly signal?: AbortSignal } = {},
): Promise<StoreRead> {
  const { expected, signal } = options;
  const index = await readDbIndex(metadata, {
    fingerprints: true,
    ...(expected === undefined ? {} : { expected }),
    ...(signal === undefined ? {} : { signal }),
  });
  const graph = await readRefGraph(metadata, index, signal === undefined ? {} : { signal });
  const entries = await listLayerAgainst(layer, index.keys, index.count);
  return { index, graph, entries };
}
