/** A finding: one thing a check or the audit observed, as plain data. */
import type { FindingId } from './finding-ids.ts';
import type { Evidence } from '../errors/index.ts';

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Plain, serialisable data; the `--json` shape of every report. */
export interface Finding {
  readonly id: FindingId;
  readonly severity: Severity;
  /** One or two sentences a person understands without the code. */
  readonly message: string;
  /** Expected vs actual, the mountinfo line, the store path… */
  readonly evidence: Evidence;
  /** The setting or command that fixes it, when there is one. */
  readonly hint?: string;
}

/** Builds a finding, dropping an undefined hint so JSON output stays clean. */
export function finding(id: FindingId, severity: Severity, message: string, evidence: Evidence, hint?: string): Finding {
  return hint === undefined ? { id, severity, message, evidence } : { id, severity, message, evidence, hint };
}

/**
 * Orders by severity (error first) and then id, for stable reports. Ids are compared by code unit, not with
 * localeCompare: for ids (lowercase ASCII, digits, `.` and `-`) the order is the same, and the first localeCompare
 * of a process loads ICU's collation, which a one-shot `check` paid on every run.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** True when any finding is at error level: the exit-code rule of `check`, `audit` and `verify`. */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
