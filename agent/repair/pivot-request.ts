/** The `pivot` action as the CLI and the control socket both ask for it, and the run around runPivot (its pool). */
import { isAbsolute } from 'node:path';
import { ControlError, type ControlHandler, type ControlRequest } from '../control/index.ts';
import { WorkerPool } from '../pool/index.ts';
import type { RemountOutcome } from '../remount/index.ts';
import type { StoreLayout } from '../store/index.ts';
import { DEFAULT_LOCK_TIMEOUT_SECONDS, MAX_LOCK_TIMEOUT_SECONDS } from './dedupe-control.ts';
import { runPivot, type PivotReport } from './run-pivot.ts';
import type { VanishingSource } from './vanishing.ts';

/** What to pivot against, and how. Files are absolute: the agent may run in another working directory. */
export interface PivotRequest {
  readonly source: VanishingSource;
  readonly dryRun: boolean;
  readonly lockTimeoutSeconds: number;
}

/** The request's fields on the control socket: `{action: 'pivot', dead | lowerDb, dryRun, lockTimeoutSeconds}`. Pure. */
export function pivotRequestFields(request: PivotRequest): Record<string, unknown> {
  return {
    ...(request.source.kind === 'dead' ? { dead: request.source.file } : { lowerDb: request.source.file }),
    dryRun: request.dryRun,
    lockTimeoutSeconds: request.lockTimeoutSeconds,
  };
}

/**
 * Reads a `pivot` control request (pure): exactly one of `dead` (the `--dead` file) or `lowerDb` (the replacement
 * DB), each an absolute path the agent can read; `dryRun` (default false); `lockTimeoutSeconds` (default and limit as dedupe's).
 * @throws ControlError CONTROL_BAD_REQUEST naming the field.
 */
export function toPivotRequest(request: ControlRequest): PivotRequest {
  const bad = (field: string, message: string): ControlError =>
    new ControlError('CONTROL_BAD_REQUEST', `"${field}" ${message}`, { evidence: { field, value: request[field] ?? null } });
  const file = (field: string): string | undefined => {
    const value = request[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !isAbsolute(value) || value.length > 4096) throw bad(field, 'must be an absolute path the agent can read');
    return value;
  };
  const dead = file('dead');
  const lowerDb = file('lowerDb');
  if ((dead === undefined) === (lowerDb === undefined)) throw bad('dead', 'or "lowerDb": give exactly one');
  const dryRun = request['dryRun'] ?? false;
  if (typeof dryRun !== 'boolean') throw bad('dryRun', 'must be true or false');
  const lockTimeoutSeconds = request['lockTimeoutSeconds'] ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
  if (typeof lockTimeoutSeconds !== 'number' || !(lockTimeoutSeconds >= 0 && lockTimeoutSeconds <= MAX_LOCK_TIMEOUT_SECONDS))
    throw bad('lockTimeoutSeconds', `must be a number of seconds from 0 to ${MAX_LOCK_TIMEOUT_SECONDS}`);
  const source: VanishingSource = dead !== undefined ? { kind: 'dead', file: dead } : { kind: 'lower-db', file: lowerDb! };
  return { source, dryRun, lockTimeoutSeconds };
}

export interface PivotRunContext {
  readonly layout: StoreLayout;
  /** Hashing threads for the copies. */
  readonly threads: number;
  readonly remount: () => Promise<RemountOutcome>;
  readonly signal: AbortSignal;
}

/** Runs `request` with a worker pool of its own (none for a dry run), closed afterwards. Errors as runPivot's. */
export async function runPivotRequest(request: PivotRequest, context: PivotRunContext): Promise<PivotReport> {
  const pool = request.dryRun ? undefined : new WorkerPool({ maxThreads: context.threads });
  try {
    return await runPivot({
      layout: context.layout,
      source: request.source,
      dryRun: request.dryRun,
      lockTimeoutMs: request.lockTimeoutSeconds * 1000,
      pool,
      remount: context.remount,
      signal: context.signal,
    });
  } finally {
    await pool?.close();
  }
}

/**
 * The agent's `pivot` action: runs the pivot in the agent, its remount through the agent's own remounter
 * (`remount`, the `remount` action's handler), so it is serialised with the agent's remounts and checked as they are.
 */
export function pivotHandler(agent: { readonly layout: () => StoreLayout; readonly threads: () => number; readonly remount: ControlHandler }): ControlHandler {
  return async (request, signal) => {
    const pivot = toPivotRequest(request);
    return runPivotRequest(pivot, {
      layout: agent.layout(),
      threads: agent.threads(),
      signal,
      remount: async () =>
        (await agent.remount(
          { id: `${String(request.id)}-remount`, action: 'remount', source: 'manual', by: 'overlay-warden pivot' },
          signal,
        )) as RemountOutcome,
    });
  };
}
