/** Carries an error thrown on a worker thread (a pool task's, the audit thread's) across as plain data, and rebuilds a WardenError on the main side. */
import { WardenError, errnoCode, messageOf, type Evidence } from '../errors/index.ts';
import { PoolTaskError, type PoolTaskFailureCode } from './pool-errors.ts';

/**
 * An error as plain data. Structured clone would drop a WardenError's `code`, `evidence`
 * and class, so the worker sends this instead and the main side rebuilds the error.
 */
export interface SerialisedError {
  /** The worker-side class name (`NarError`, `Error`…). */
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly evidence: Evidence;
  readonly hint?: string;
  readonly stack?: string;
  readonly cause?: SerialisedError;
}

/** How deep a `cause` chain is carried; deeper causes are cut off. */
const MAX_CAUSE_DEPTH = 4;

/**
 * Turns anything a handler threw into plain data. A WardenError keeps its code; a Node
 * system error becomes `POOL_TASK_IO_ERROR` with its errno, syscall and path as evidence;
 * anything else is `POOL_TASK_FAILED`. Never throws.
 */
export function serialiseError(error: unknown, depth = 0): SerialisedError {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const serialisedCause = cause !== undefined && depth < MAX_CAUSE_DEPTH ? serialiseError(cause, depth + 1) : undefined;
  const base = {
    name: error instanceof Error ? error.name : typeof error,
    message: messageOf(error),
    ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
    ...(serialisedCause === undefined ? {} : { cause: serialisedCause }),
  };
  if (error instanceof WardenError) {
    return { ...base, code: error.code, evidence: cloneableEvidence(error.evidence), ...(error.hint === undefined ? {} : { hint: error.hint }) };
  }
  const errno = errnoCode(error);
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  if (errno !== undefined && typeof syscall === 'string') {
    const { path, dest } = error as { path?: unknown; dest?: unknown };
    const code: PoolTaskFailureCode = 'POOL_TASK_IO_ERROR';
    return { ...base, code, evidence: cloneableEvidence({ errno, syscall, path, ...(dest === undefined ? {} : { dest }) }) };
  }
  const code: PoolTaskFailureCode = 'POOL_TASK_FAILED';
  return { ...base, code, evidence: errno === undefined ? {} : { errno } };
}

/**
 * Rebuilds an error a thread sent (as serialiseError made it) on the main thread: same code, hint, evidence and
 * cause chain, so callers branch on the code as if it had been thrown here. `context.subject`, when given, goes
 * before the message (`nar-hash /upper/x: …`); `context.evidence` is added to the evidence.
 */
export function rebuildThreadError(remote: SerialisedError, context: { readonly subject?: string; readonly evidence?: Evidence } = {}): PoolTaskError {
  return new PoolTaskError(remote.code, context.subject === undefined ? remote.message : `${context.subject}: ${remote.message}`, remote.name, remote.stack, {
    evidence: { ...remote.evidence, ...context.evidence },
    ...(remote.hint === undefined ? {} : { hint: remote.hint }),
    ...(remote.cause === undefined ? {} : { cause: rebuildCause(remote.cause) }),
  });
}

function rebuildCause(remote: SerialisedError): WardenError {
  return new WardenError(remote.code, remote.message, {
    evidence: remote.evidence,
    ...(remote.hint === undefined ? {} : { hint: remote.hint }),
    ...(remote.cause === undefined ? {} : { cause: rebuildCause(remote.cause) }),
  });
}

/** Evidence that survives postMessage: values structured clone rejects (functions, symbols…) become strings. */
function cloneableEvidence(evidence: Evidence): Evidence {
  try {
    return structuredClone(evidence);
  } catch {
    return Object.fromEntries(Object.entries(evidence).map(([key, value]) => [key, cloneableValue(value)]));
  }
}

function cloneableValue(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}
