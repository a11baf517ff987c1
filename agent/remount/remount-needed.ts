/** The persisted "remount needed" flag: pure updates, and the state file that keeps it across crashes and restarts. */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, messageOf } from '../errors/index.ts';
import { readJsonStateFile, writeFileAtomic, StateFileError } from '../state/index.ts';
import { isRemountRequest, type RemountRequest } from './remount-request.ts';

/** The flag's file name in the agent's state dir. */
export const REMOUNT_NEEDED_FILE = 'remount-needed.json';

/** How many of the latest reasons the flag keeps (the count of all requests is kept apart). */
export const MAX_KEPT_REASONS = 32;

export interface FlagReason {
  /** When the request arrived (ISO 8601). */
  readonly at: string;
  readonly request: RemountRequest;
  /** The request's ticket in this process; absent in the file (a restored reason is ticket 0). */
  readonly ticket?: number;
}

/**
 * A remount is needed and has not yet been proven done. Unlike Nix's
 * in-memory `remountRequired`, this survives a crash: it is written before the
 * remount runs and removed only after a remount the check found fresh.
 */
export interface RemountNeeded {
  readonly version: 1;
  /** When the oldest unanswered request arrived (ISO 8601). */
  readonly firstFlaggedAt: string;
  /** Requests since then (the reasons list keeps only the latest MAX_KEPT_REASONS). */
  readonly requests: number;
  readonly reasons: readonly FlagReason[];
  /** Remount attempts made for these requests, across runs and restarts. */
  readonly attempts: number;
  readonly lastAttemptAt: string | null;
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The flag with one more request (a new flag when `flag` is undefined). Pure. */
export function addFlagReason(flag: RemountNeeded | undefined, request: RemountRequest, at: number, ticket: number): RemountNeeded {
  const reason: FlagReason = { at: iso(at), request, ticket };
  if (flag === undefined) return { version: 1, firstFlaggedAt: iso(at), requests: 1, reasons: [reason], attempts: 0, lastAttemptAt: null, lastError: null };
  return { ...flag, requests: flag.requests + 1, reasons: [...flag.reasons.slice(-(MAX_KEPT_REASONS - 1)), reason] };
}

/** The flag after an attempt started at `at`. Pure. */
export function recordFlagAttempt(flag: RemountNeeded, at: number): RemountNeeded {
  return { ...flag, attempts: flag.attempts + 1, lastAttemptAt: iso(at) };
}

/** The flag after an attempt failed with `error`. Pure. */
export function recordFlagError(flag: RemountNeeded, error: { code: string; message: string }, at: number): RemountNeeded {
  return { ...flag, lastError: { code: error.code, message: error.message, at: iso(at) } };
}

/**
 * The flag after a fresh remount that answered tickets up to `coveredUpTo`:
 * undefined when nothing else is pending; otherwise only the requests that
 * arrived during the run (`lastTicket − coveredUpTo` of them), with attempts
 * and error reset. Pure.
 */
export function clearFlagThrough(flag: RemountNeeded | undefined, coveredUpTo: number, lastTicket: number, now: number): RemountNeeded | undefined {
  if (flag === undefined || lastTicket <= coveredUpTo) return undefined;
  const reasons = flag.reasons.filter((r) => (r.ticket ?? 0) > coveredUpTo);
  return {
    version: 1,
    firstFlaggedAt: reasons[0]?.at ?? iso(now),
    requests: lastTicket - coveredUpTo,
    reasons,
    attempts: 0,
    lastAttemptAt: null,
    lastError: null,
  };
}

/** True when `value` is a RemountNeeded as written by `writeRemountNeeded`. */
export function isRemountNeeded(value: unknown): value is RemountNeeded {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Record<string, unknown>;
  const error = f['lastError'];
  return (
    f['version'] === 1 &&
    typeof f['firstFlaggedAt'] === 'string' &&
    Number.isInteger(f['requests']) &&
    Number.isInteger(f['attempts']) &&
    (f['lastAttemptAt'] === null || typeof f['lastAttemptAt'] === 'string') &&
    (error === null ||
      (typeof error === 'object' &&
        typeof (error as Record<string, unknown>)['code'] === 'string' &&
        typeof (error as Record<string, unknown>)['message'] === 'string')) &&
    Array.isArray(f['reasons']) &&
    f['reasons'].every(
      (r: unknown) => typeof r === 'object' && r !== null && typeof (r as FlagReason).at === 'string' && isRemountRequest((r as FlagReason).request),
    )
  );
}

/** The flag's path under `stateDir`. */
export function remountNeededPath(stateDir: string): string {
  return join(stateDir, REMOUNT_NEEDED_FILE);
}

/**
 * Reads the flag, or undefined when none is pending. Throws StateFileError
 * (STATE_READ_FAILED, or STATE_CORRUPT for a file that is not a flag: callers
 * should then assume a remount is needed, which is always safe).
 */
export function readRemountNeeded(file: string): RemountNeeded | undefined {
  const flag = readJsonStateFile(file, isRemountNeeded);
  return flag === undefined ? undefined : { ...flag, reasons: flag.reasons.map(({ at, request }) => ({ at, request })) };
}

/** Writes the flag atomically (mode 0600), without the in-process tickets. Throws StateFileError STATE_WRITE_FAILED. */
export function writeRemountNeeded(file: string, flag: RemountNeeded): void {
  const reasons = flag.reasons.map(({ at, request }) => ({ at, request }));
  writeFileAtomic(file, `${JSON.stringify({ ...flag, reasons }, null, 2)}\n`);
}

/** Removes the flag; absent already is fine. Throws StateFileError STATE_WRITE_FAILED otherwise. */
export function clearRemountNeeded(file: string): void {
  try {
    unlinkSync(file);
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return;
    throw new StateFileError('STATE_WRITE_FAILED', `cannot remove state file ${file}: ${messageOf(cause)}`, {
      cause,
      evidence: { file, errno: errnoCode(cause) },
    });
  }
}
