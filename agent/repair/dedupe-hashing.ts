/** NAR hashes dedupe needs, on the worker pool: both copies of each duplicate, and later what the merged dir serves. */
import type { NarSource, WorkerPool } from '../pool/index.ts';

/**
 * Sources per pool task: many small store paths share one message round trip and one getfattr run (a process each:
 * 32 per task cost 2 s more than 128 on 10,000 small paths here).
 */
const BATCH = 128;

/** A source's outcome: its hash (lowercase hex) and, for an upper-over-lower source, the lower copy's; or why not. */
export interface SourceHashes {
  readonly hash: string | undefined;
  readonly lowerHash: string | undefined;
  readonly error: string | undefined;
}

/**
 * Hashes `sources` on `pool` in batches (nar-hash-batch): an `{upper, lower}` source is the upper copy as the merged
 * view serves it plus the lower copy alone; a string is that path as it is (the merged dir's copy). Resolves with
 * one outcome per source, in order; a source that fails does not stop the others. When `signal` aborts, resolves
 * at once, the sources not hashed yet saying so (`error: 'not hashed'`).
 */
export async function hashSources(pool: WorkerPool, sources: readonly NarSource[], signal: AbortSignal): Promise<SourceHashes[]> {
  const out: SourceHashes[] = Array.from({ length: sources.length }, () => ({ hash: undefined, lowerHash: undefined, error: 'not hashed' }));
  const starts: number[] = [];
  for (let start = 0; start < sources.length; start += BATCH) starts.push(start);
  const outcomes = pool.map(starts, (start) => ({ type: 'nar-hash-batch' as const, paths: sources.slice(start, start + BATCH) }), {
    signal,
    total: starts.length,
  });
  try {
    for await (const outcome of outcomes) {
      const start = outcome.item;
      if (!outcome.ok) {
        for (let i = start; i < Math.min(start + BATCH, sources.length); i++) out[i] = { hash: undefined, lowerHash: undefined, error: outcome.error.message };
        continue;
      }
      outcome.value.results.forEach((entry, offset) => {
        if (!entry.ok) {
          out[start + offset] = { hash: undefined, lowerHash: undefined, error: entry.error.message };
          return;
        }
        const lower = entry.lower;
        const lowerHash = lower?.kind === 'hashed' ? lower.hash : undefined;
        const lowerError = lower?.kind === 'failed' ? lower.error.message : lower?.kind === 'absent' ? 'the lower copy is gone' : undefined;
        out[start + offset] = { hash: entry.hash, lowerHash, error: lowerError };
      });
    }
  } catch (error) {
    // Interrupted: the sources not reached keep 'not hashed', so nothing unhashed is ever judged removable.
    if (!signal.aborted) throw error;
  }
  return out;
}
