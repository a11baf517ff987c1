/** Whether a step of the demo came out as the tour says it should: its expectation, stated for people, and the verdict (pure). */
import type { Finding, Severity } from '../findings/index.ts';

/** One finding a step must report. */
export interface ExpectedFinding {
  readonly id: string;
  /** How many findings with this id (default: at least one). */
  readonly count?: number;
  /** A store path one of them must name in its evidence's `path`. */
  readonly path?: string;
}

/** What a step of the tour should come out as. */
export interface StepExpectation {
  readonly exitCode: number;
  readonly findings: readonly ExpectedFinding[];
  /** Severities at which no finding other than the expected ones may appear (e.g. a clean check: error, warning). */
  readonly nothingElseAt: readonly Severity[];
}

/** What the step came out as: its exit code and findings (a command's `--json` envelope has both). */
export interface StepOutcome {
  readonly exitCode: number;
  readonly findings: readonly Pick<Finding, 'id' | 'severity' | 'evidence'>[];
}

export interface StepVerdict {
  readonly asExpected: boolean;
  /** The expectation in words, e.g. `exit 1; store.masked ×1 naming /nix/store/…-x; no other error`. */
  readonly expected: string;
  /** What differed, one sentence each; empty when as expected. */
  readonly differences: readonly string[];
}

/** The expectation in words, for the tour's "expect:" line and the JSON. */
export function describeExpectation(expectation: StepExpectation): string {
  const parts = [`exit ${expectation.exitCode}`];
  for (const f of expectation.findings) {
    parts.push(`${f.id}${f.count === undefined ? '' : ` ×${f.count}`}${f.path === undefined ? '' : ` naming ${f.path}`}`);
  }
  if (expectation.nothingElseAt.length > 0) parts.push(`no other ${expectation.nothingElseAt.join(' or ')}`);
  return parts.join('; ');
}

/**
 * Judges a step's outcome against its expectation: the exit code must match; each expected finding id must appear
 * (exactly `count` times when given; with `path` in one's evidence when given); and no finding with another id may
 * appear at a severity in `nothingElseAt`. Pure; never throws.
 */
export function judgeStep(expectation: StepExpectation, outcome: StepOutcome): StepVerdict {
  const differences: string[] = [];
  if (outcome.exitCode !== expectation.exitCode) differences.push(`exit code ${outcome.exitCode}, not ${expectation.exitCode}`);
  for (const want of expectation.findings) {
    const found = outcome.findings.filter((f) => f.id === want.id);
    if (found.length === 0) differences.push(`no ${want.id} finding`);
    else if (want.count !== undefined && found.length !== want.count) differences.push(`${found.length} ${want.id} findings, not ${want.count}`);
    if (want.path !== undefined && found.length > 0 && !found.some((f) => f.evidence['path'] === want.path)) {
      differences.push(`no ${want.id} finding names ${want.path}`);
    }
  }
  const expectedIds = new Set(expectation.findings.map((f) => f.id));
  const others = outcome.findings.filter((f) => !expectedIds.has(f.id) && expectation.nothingElseAt.includes(f.severity));
  for (const id of new Set(others.map((f) => f.id))) {
    const severity = others.find((f) => f.id === id)?.severity ?? 'error';
    differences.push(`unexpected ${severity} ${id}`);
  }
  return { asExpected: differences.length === 0, expected: describeExpectation(expectation), differences };
}
