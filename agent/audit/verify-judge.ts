/** Turns what the pool answered for one batch of objects into `store.corrupt` findings and counts (pure). */
import type { Finding } from '../findings/index.ts';
import { type LowerObjectDigest, type MapOutcome, type SerialisedError, type NarHashBatchTaskResult, toErrorReport, rebuildTaskError } from '../pool/index.ts';
import { judgeFailure, judgeMeasurement, type LowerCopyOutcome, type VerifyItem } from './find-corrupt.ts';

/** One batch's outcome: the worker's answer per object (hashSource of each item), or the error that took the whole task down. */
export type HashedBatch = MapOutcome<readonly VerifyItem[], NarHashBatchTaskResult>;

/** A batch judged: its findings, and for progress how many objects could not be hashed and the NAR bytes hashed. */
export interface JudgedBatch {
  readonly findings: readonly Finding[];
  readonly failed: number;
  readonly bytes: number;
}

/** Stands in for a result a worker left out (never expected: a batch answers for every path). */
const MISSING_RESULT: SerialisedError = { name: 'Error', code: 'POOL_TASK_FAILED', message: 'the worker returned no result for this path', evidence: {} };

/**
 * Judges each object of a batch: the served object's digest, with its lower copy's, against what the DBs expect
 * (judgeMeasurement), or its failure as vanished or unreadable (judgeFailure). A path's own failure reads as if it
 * had been a task of its own (a `nar-hash` task: the same code, evidence and message); a failed task is every
 * object's failure. A lower copy that cannot be hashed is unreadable only when the lower DB's expectation of it is
 * in scope; otherwise the served object's findings mention it.
 */
export function judgeBatch(outcome: HashedBatch): JudgedBatch {
  const findings: Finding[] = [];
  let failed = 0;
  let bytes = 0;
  outcome.item.forEach((item, at) => {
    const entry = outcome.ok ? outcome.value.results[at] : undefined;
    if (entry?.ok !== true) {
      failed++;
      const error = outcome.ok ? toErrorReport(rebuildTaskError(entry?.error ?? MISSING_RESULT, { type: 'nar-hash', path: item.file })) : outcome.error;
      findings.push(judgeFailure(item, error));
      return;
    }
    bytes += entry.narSize;
    const lower = item.lowerCopy === undefined ? undefined : lowerOutcome(entry.lower, item.lowerCopy.file);
    findings.push(...judgeMeasurement(item, entry, lower));
    if (lower?.kind === 'failed' && item.lowerCopy !== undefined && item.lowerCopy.expected.length > 0) {
      findings.push(judgeFailure({ path: item.path, file: item.lowerCopy.file, layer: 'lower', expected: item.lowerCopy.expected }, lower.error));
    }
  });
  return { findings, failed, bytes };
}

/** What the worker found of a lower copy: its digest, nothing there (also when it vanished as it was read), or why not. */
function lowerOutcome(digest: LowerObjectDigest | undefined, file: string): LowerCopyOutcome {
  if (digest?.kind === 'hashed') return { kind: 'hashed', measured: digest };
  if (digest?.kind === 'absent') return { kind: 'absent' };
  const error = toErrorReport(rebuildTaskError(digest?.error ?? MISSING_RESULT, { type: 'nar-hash', path: file }));
  const failedPath = error.evidence['path'] ?? error.evidence['taskPath'];
  return error.evidence['errno'] === 'ENOENT' && failedPath === file ? { kind: 'absent' } : { kind: 'failed', error };
}
