/** Every error the worker pool raises, in one place: bad options, abort, close, a full queue, a failed worker or task. */
import { WardenError, type Evidence, type WardenErrorOptions } from '../errors/index.ts';

export type PoolErrorCode = 'POOL_OPTIONS_INVALID' | 'POOL_ABORTED' | 'POOL_CLOSED' | 'POOL_QUEUE_FULL' | 'POOL_WORKER_FAILED';

/**
 * Codes a task failure carries when the worker threw something that is not a WardenError
 * (a WardenError keeps its own code, e.g. the NAR hasher's).
 */
export type PoolTaskFailureCode = 'POOL_TASK_IO_ERROR' | 'POOL_TASK_FAILED' | 'POOL_TASK_UNKNOWN_TYPE';

/** A pool or runner option with a bad value: names the field, the value and what was expected. */
export class PoolOptionsError extends WardenError<'POOL_OPTIONS_INVALID'> {
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;
  constructor(field: string, value: unknown, expected: string) {
    super('POOL_OPTIONS_INVALID', `pool option ${field}: got ${describeValue(value)}; expected ${expected}`, {
      evidence: { field, value: describeValue(value), expected },
    });
    this.field = field;
    this.value = value;
    this.expected = expected;
  }
}

/** Work stopped because its AbortSignal fired; `cause` is the signal's reason. */
export class PoolAbortedError extends WardenError<'POOL_ABORTED'> {
  constructor(reason: unknown, evidence: Evidence = {}) {
    super('POOL_ABORTED', 'pool work was aborted', { evidence, cause: reason });
  }
}

/** A task was submitted after `close()` began, or was still queued when it did. */
export class PoolClosedError extends WardenError<'POOL_CLOSED'> {
  constructor(evidence: Evidence = {}) {
    super('POOL_CLOSED', 'the worker pool is closed', { evidence, hint: 'create a new pool, or run work before close()' });
  }
}

/** More tasks outstanding than threads plus `maxQueue`: the caller is not applying back-pressure. */
export class PoolQueueFullError extends WardenError<'POOL_QUEUE_FULL'> {
  constructor(limit: number, evidence: Evidence = {}) {
    super('POOL_QUEUE_FULL', `the worker pool already holds ${limit} outstanding tasks`, {
      evidence: { ...evidence, limit },
      hint: 'submit bulk work through pool.map (bounded in-flight count) instead of unbounded pool.run calls',
    });
  }
}

/** The thread running a task died (crash, out of memory, failed to load) rather than the task throwing. */
export class PoolWorkerError extends WardenError<'POOL_WORKER_FAILED'> {
  constructor(message: string, options: WardenErrorOptions = {}) {
    super('POOL_WORKER_FAILED', message, options);
  }
}

/**
 * A task that threw inside a worker, rebuilt on the main thread. It keeps the worker-side
 * `code` (e.g. a NarError's), message, evidence and hint, and adds the task to the evidence,
 * so callers can say which path failed and why. `remoteName` is the worker-side class name.
 */
export class PoolTaskError<C extends string = string> extends WardenError<C> {
  readonly remoteName: string;
  readonly remoteStack: string | undefined;
  constructor(code: C, message: string, remoteName: string, remoteStack: string | undefined, options: WardenErrorOptions) {
    super(code, message, options);
    this.remoteName = remoteName;
    this.remoteStack = remoteStack;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
