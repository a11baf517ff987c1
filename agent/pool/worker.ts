/** Worker-thread entry: runs one pool task with the handler for its `type` and returns the outcome as plain data. */
import { WardenError } from '../errors/index.ts';
import type { PoolTaskFailureCode } from './pool-errors.ts';
import { serialiseError, type SerialisedError } from './serialised-error.ts';
import type { PoolTask, PoolTaskResult, TaskResultByType, TaskType } from './tasks.ts';
import { runComparePair } from './tasks/compare-pair.ts';
import { runNarHash } from './tasks/nar-hash.ts';
import { runNarHashBatch } from './tasks/nar-hash-batch.ts';

/**
 * What a task sends back. Errors travel as data rather than as a thrown error because
 * structured clone keeps only an Error's message and stack, not its code or evidence.
 */
export type TaskOutcome = { readonly ok: true; readonly value: PoolTaskResult } | { readonly ok: false; readonly error: SerialisedError };

type Handlers = { readonly [K in TaskType]: (task: Extract<PoolTask, { type: K }>) => TaskResultByType[K] };

/** One handler per task type; handlers are synchronous, so a task holds its thread until done or terminated. */
const HANDLERS: Handlers = {
  'nar-hash': runNarHash,
  'nar-hash-batch': runNarHashBatch,
  'compare-pair': runComparePair,
};

/** Piscina calls the default export with each task message. Never throws: failures are outcomes. */
export default function runTask(task: PoolTask): TaskOutcome {
  try {
    const type = (task as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !Object.hasOwn(HANDLERS, type)) {
      throw new WardenError<PoolTaskFailureCode>('POOL_TASK_UNKNOWN_TYPE', `no handler for task type ${JSON.stringify(type)}`, {
        evidence: { type: String(type), known: Object.keys(HANDLERS) },
      });
    }
    const handler = HANDLERS[type as TaskType] as (task: PoolTask) => PoolTaskResult;
    return { ok: true, value: handler(task) };
  } catch (error) {
    return { ok: false, error: serialiseError(error) };
  }
}
