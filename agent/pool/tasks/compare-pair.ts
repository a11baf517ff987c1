/** Worker handler for `compare-pair`: NAR hashes of what the merged view serves and of the lower copy, and what the upper copy occupies. */
import { readOverlayMarksTreeSync } from '../../mount/index.ts';
import { allocatedBytesFreedByRemovalSync } from '../disk-usage.ts';
import type { ComparePairTask, ComparePairTaskResult } from '../tasks.ts';
import { narDigestOf, sourceDigestOf } from './nar-hash.ts';

/**
 * Runs a `compare-pair` task: hashes the upper copy as the merged view serves it (merged over the lower copy where
 * OverlayFS merges: see narHashOfMergedSync), then the lower copy, then measures the upper copy. Equal digests mean
 * that removing the upper copy changes nothing the merged view serves. Throws NarError (its evidence names which
 * copy's file failed) or an errno error.
 */
export function runComparePair(task: ComparePairTask): ComparePairTaskResult {
  const source = { upper: task.upperPath, lower: task.lowerPath };
  const upper = sourceDigestOf(source, readOverlayMarksTreeSync([task.upperPath]));
  const lower = narDigestOf(task.lowerPath);
  return {
    type: 'compare-pair',
    upper,
    lower,
    equal: upper.hash === lower.hash && upper.narSize === lower.narSize,
    upperBytes: allocatedBytesFreedByRemovalSync(task.upperPath),
  };
}
