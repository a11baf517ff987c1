/** The control socket's `dedupe` action: the agent runs dedupe itself (a container sidecar needs only the socket). */
import { availableParallelism } from 'node:os';
import { ControlError, type ControlHandler, type ControlRequest } from '../control/index.ts';
import { WorkerPool } from '../pool/index.ts';
import type { RemountOutcome } from '../remount/index.ts';
import type { StoreLayout } from '../store/index.ts';
import { runDedupe, type DedupeReport } from './run-dedupe.ts';

/** Longest wait for Nix's GC lock a request may ask for (the control server stops a handler after 15 minutes). */
export const MAX_LOCK_TIMEOUT_SECONDS = 600;
/** Default wait for the lock, the CLI's `--lock-timeout` default too. */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 60;
/** Paths listed in an answer: a response line is at most 4 MiB, and 10,000 paths take about 3. */
export const MAX_PATHS_ANSWERED = 2000;

/** A dedupe report as the socket carries it: at most MAX_PATHS_ANSWERED paths, and how many were left out. */
export type AnsweredDedupeReport = DedupeReport & { readonly pathsOmitted: number };

export interface DedupeRequest {
  readonly apply: boolean;
  readonly lockTimeoutSeconds: number;
}

/**
 * Reads `{action: 'dedupe', apply?: boolean, lockTimeoutSeconds?: number}` (pure).
 * @throws ControlError CONTROL_BAD_REQUEST naming the field.
 */
export function toDedupeRequest(request: ControlRequest): DedupeRequest {
  const apply = request['apply'] ?? false;
  if (typeof apply !== 'boolean') throw new ControlError('CONTROL_BAD_REQUEST', '"apply" must be true or false', { evidence: { apply } });
  const seconds = request['lockTimeoutSeconds'] ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
  if (typeof seconds !== 'number' || !(seconds >= 0 && seconds <= MAX_LOCK_TIMEOUT_SECONDS)) {
    throw new ControlError('CONTROL_BAD_REQUEST', `"lockTimeoutSeconds" must be a number from 0 to ${MAX_LOCK_TIMEOUT_SECONDS}`, {
      evidence: { lockTimeoutSeconds: seconds },
    });
  }
  return { apply, lockTimeoutSeconds: seconds };
}

/** Cuts a report's path list to what an answer carries (pure). */
export function answeredReport(report: DedupeReport): AnsweredDedupeReport {
  return { ...report, paths: report.paths.slice(0, MAX_PATHS_ANSWERED), pathsOmitted: Math.max(0, report.paths.length - MAX_PATHS_ANSWERED) };
}

/**
 * The `dedupe` handler: runs dedupe in the agent on a pool of its own (closed after), remounting through the
 * agent's remounter (`requestRemount`), so the remount is serialised with the agent's own. A client that gives up
 * aborts the run between copies; what was removed is still remounted for.
 */
export function dedupeHandler(layout: StoreLayout, poolSize: number | 'auto', requestRemount: () => Promise<RemountOutcome>): ControlHandler {
  return async (request, signal) => {
    const { apply, lockTimeoutSeconds } = toDedupeRequest(request);
    // One thread per core: an agent's repair should not crowd out the machine's work.
    const pool = new WorkerPool({ maxThreads: poolSize === 'auto' ? availableParallelism() : poolSize });
    try {
      return answeredReport(await runDedupe({ layout, apply, lockTimeoutMs: lockTimeoutSeconds * 1000, pool, signal, requestRemount }));
    } finally {
      await pool.close();
    }
  };
}
