/** How scheduled work words its log lines: a failure with its error's facts, and a one-line summary of findings. */
import { messageOf, WardenError } from '../errors/index.ts';
import type { Finding } from '../findings/index.ts';
import type { Logger } from '../log/index.ts';

/** Logs `what: message` at error level with the error's code, hint and evidence when it is a WardenError. Never throws. */
export function logScheduleError(logger: Logger, what: string, error: unknown): void {
  const e = error instanceof WardenError ? error : undefined;
  logger.error(`${what}: ${messageOf(error)}`, { code: e?.code, hint: e?.hint, ...e?.evidence });
}

/** The distinct finding ids, in first-seen order. */
export function idsOf(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => f.id))];
}

/** `no findings`, or `N findings (E errors): ids`. */
export function describeFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings';
  const errors = findings.filter((f) => f.severity === 'error').length;
  return `${findings.length} finding${findings.length === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}): ${idsOf(findings).join(', ')}`;
}

/** Seconds rounded to the millisecond, for log fields. */
export function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
