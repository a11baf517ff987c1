/** Runs checks one after another, timing each; a check that throws becomes a finding, never a crash. */
import { performance } from 'node:perf_hooks';
import { WardenError, messageOf } from '../errors/index.ts';
import { compareFindings, finding, type Finding } from '../findings/index.ts';
import type { Check, CheckContext } from './check.ts';

/** How one check went: for metrics (`overlay_warden_check_…`) and `--json` reports. */
export interface CheckOutcome {
  readonly id: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly findings: number;
}

export interface CheckReport {
  /** Every finding, errors first. */
  readonly findings: readonly Finding[];
  readonly checks: readonly CheckOutcome[];
}

/**
 * Runs `checks` against `context`. A check that throws or rejects yields a
 * `check.failed` error finding naming the check and the error; the rest still
 * run. Rejects only when `signal` is aborted (with its reason).
 */
export async function runChecks(checks: readonly Check[], context: CheckContext, signal: AbortSignal): Promise<CheckReport> {
  signal.throwIfAborted();
  const findings: Finding[] = [];
  const outcomes: CheckOutcome[] = [];
  for (const check of checks) {
    signal.throwIfAborted();
    const started = performance.now();
    try {
      const found = await check.run(context, signal);
      findings.push(...found);
      outcomes.push({ id: check.id, ok: true, durationMs: performance.now() - started, findings: found.length });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      findings.push(checkFailed(check, error));
      outcomes.push({ id: check.id, ok: false, durationMs: performance.now() - started, findings: 1 });
    }
  }
  return { findings: findings.sort(compareFindings), checks: outcomes };
}

function checkFailed(check: Check, error: unknown): Finding {
  const detail = error instanceof WardenError ? { code: error.code, error: error.message, ...error.evidence } : { error: messageOf(error) };
  return finding(
    'check.failed',
    'error',
    `the check "${check.title}" (${check.id}) could not run: ${detail.error}`,
    { check: check.id, ...detail },
    'this is a bug or an unreadable file; the other checks still ran',
  );
}
