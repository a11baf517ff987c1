/** Worker handler for `compare-pair`: NAR hashes of a path's upper and lower copies, and what the upper copy occupies. */
import { allocatedBytesFreedByRemovalSync } from '../disk-usage.ts';
import type { ComparePairTask, ComparePairTaskResult } from '../tasks.ts';
import { narDigestOf } from './nar-hash.ts';

/**
 * Runs a `compare-pair` task: hashes the upper copy, then the lower copy, then measures the
 * upper copy. Throws NarError (its evidence names which copy's file failed) or an errno error.
 */
export function runComparePair(task: ComparePairTask): ComparePairTaskResult {
  const upper = narDigestOf(task.upperPath);
  const lower = narDigestOf(task.lowerPath);
  return {
    type: 'compare-pair',
    upper,
    lower,
    equal: upper.hash === lower.hash && upper.narSize === lower.narSize,
    upperBytes: allocatedBytesFreedByRemovalSync(task.upperPath),
  };
}
