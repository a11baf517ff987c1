/** Worker handler for `nar-hash-batch`: the NAR digest of each of several sources, a failure per source as data. */
import fs from 'node:fs';
import { readOverlayMarksTreeSync, type TreeMarks } from '../../mount/index.ts';
import { serialiseError } from '../serialised-error.ts';
import type { LowerObjectDigest, NarHashBatchEntry, NarHashBatchTask, NarHashBatchTaskResult, NarSource } from '../tasks.ts';
import { narDigestOf, sourceDigestOf } from './nar-hash.ts';

/**
 * Runs a `nar-hash-batch` task: hashes the sources in order; a source that throws (NarError, an errno error) gets
 * `{ ok: false, error }` and the rest are still hashed. The overlay xattrs of the merged sources that have a lower
 * object are read first, with one getfattr for the batch; each such lower object is hashed on its own too.
 * Never throws for a single source.
 */
export function runNarHashBatch(task: NarHashBatchTask): NarHashBatchTaskResult {
  const lowerPresent = task.paths.map((source) => typeof source !== 'string' && fs.lstatSync(source.lower, { throwIfNoEntry: false }) !== undefined);
  const marks = readOverlayMarksTreeSync(task.paths.flatMap((source, i) => (lowerPresent[i] === true ? [(source as Exclude<NarSource, string>).upper] : [])));
  const results: NarHashBatchEntry[] = [];
  task.paths.forEach((source, i) => {
    try {
      const served = sourceDigestOf(source, lowerPresent[i] === true ? marks : NO_MARKS);
      results.push(
        typeof source === 'string' ? { ok: true, ...served } : { ok: true, ...served, lower: lowerDigestOf(source.lower, lowerPresent[i] === true) },
      );
    } catch (error) {
      results.push({ ok: false, error: serialiseError(error) });
    }
  });
  return { type: 'nar-hash-batch', results };
}

/** The marks of an upper object with no lower object under it: none matter, as nothing is merged. */
const NO_MARKS: TreeMarks = { available: true, marks: new Map() };

function lowerDigestOf(lower: string, present: boolean): LowerObjectDigest {
  if (!present) return { kind: 'absent' };
  try {
    return { kind: 'hashed', ...narDigestOf(lower) };
  } catch (error) {
    return { kind: 'failed', error: serialiseError(error) };
  }
}
