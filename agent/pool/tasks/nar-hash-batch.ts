/** Worker handler for `nar-hash-batch`: the NAR digest of each of several paths, a failure per path as data. */
import { serialiseError } from '../serialised-error.ts';
import type { NarHashBatchEntry, NarHashBatchTask, NarHashBatchTaskResult } from '../tasks.ts';
import { narDigestOf } from './nar-hash.ts';

/**
 * Runs a `nar-hash-batch` task: hashes the paths in order; a path that throws (NarError, an errno error) gets
 * `{ ok: false, error }` and the rest are still hashed. Never throws for a single path.
 */
export function runNarHashBatch(task: NarHashBatchTask): NarHashBatchTaskResult {
  const results: NarHashBatchEntry[] = [];
  for (const path of task.paths) {
    try {
      results.push({ ok: true, ...narDigestOf(path) });
    } catch (error) {
      results.push({ ok: false, error: serialiseError(error) });
    }
  }
  return { type: 'nar-hash-batch', results };
}
