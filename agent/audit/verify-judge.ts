/** Turns what the pool answered for one batch of objects into `store.corrupt` findings and counts (pure). */
import type { Finding } from '../findings/index.ts';
import { type MapOutcome, type SerialisedError, type NarHashBatchTaskResult, toErrorReport, rebuildTaskError } from '../pool/index.ts';
import { judgeFailure, judgeMeasurement, type VerifyItem } from './find-corrupt.ts';

/** One batch's outcome: the worker's answer per path, or the error that took the whole task down. */
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
 * Judges each object of a batch: a digest against what its DBs expect (judgeMeasurement), a failure as vanished or
 * unreadable (judgeFailure). A path's own failure reads as if it had been a task of its own (a `nar-hash` task:
 * the same code, evidence and message); a failed task is every object's failure.
 */
export function judgeBatch(outcome: HashedBatch): JudgedBatch {
  const findings: Finding[] = [];
  let failed = 0;
  let bytes = 0;
  outcome.item.forEach((item, at) => {
    const entry = outcome.ok ? outcome.value.results[at] : undefined;
    if (entry?.ok === true) {
      bytes += entry.narSize;
      findings.push(...judgeMeasurement(item, entry));
      return;
    }
    failed++;
    const error = outcome.ok ? toErrorReport(rebuildTaskError(entry?.error ?? MISSING_RESULT, { type: 'nar-hash', path: item.file })) : outcome.error;
    findings.push(judgeFailure(item, error));
  });
  return { findings, failed, bytes };
}
