/** How the agent logs a mount check: every finding at start and after a mount change; on its schedule, only what came or went. */
import { findingLogLine, hasErrors, type Finding } from '../findings/index.ts';
import type { LogLine } from '../log/index.ts';

/** Why the agent ran the mount check; `scheduled` runs (checks.intervalSeconds) log only changes. */
export type CheckReason = 'start' | 'mount changed' | 'scheduled';

/**
 * What makes two runs' findings the same finding: the id, the severity and the subject (`evidence.path`, or
 * `evidence.check` for `check.failed`), not the message, whose figures (free space, inodes) change every run.
 */
export function findingKey(f: Finding): string {
  const subject = f.evidence['path'] ?? f.evidence['check'] ?? '';
  return `${f.id}\0${f.severity}\0${typeof subject === 'string' ? subject : JSON.stringify(subject)}`;
}

export interface FindingChanges {
  /** In `after` and not in `before` (by findingKey), in `after`'s order. */
  readonly appeared: readonly Finding[];
  /** In `before` and not in `after`, as `before` had them. */
  readonly cleared: readonly Finding[];
}

/** The findings that appeared and cleared between two runs (by findingKey). Pure. */
export function findingChanges(before: readonly Finding[], after: readonly Finding[]): FindingChanges {
  const beforeKeys = new Set(before.map(findingKey));
  const afterKeys = new Set(after.map(findingKey));
  return { appeared: after.filter((f) => !beforeKeys.has(findingKey(f))), cleared: before.filter((f) => !afterKeys.has(findingKey(f))) };
}

/** The line for a finding no longer found: info, its id in `cleared` (not `finding`, which alert rules fire on). */
export function clearedFindingLogLine(f: Finding): LogLine {
  return { level: 'info', message: `${f.id} cleared (was: ${f.message})`, fields: { cleared: f.id } };
}

/**
 * The log lines of one mount check, given the findings the log last reported (`logged`; none before the first):
 * for `start` and `mount changed`, every finding and a summary; for `scheduled`, the findings that appeared and
 * those that cleared and then the summary, or nothing at all when nothing changed, so a check every minute adds
 * no line while the store stays as it was. Pure.
 */
export function checkLogLines(logged: readonly Finding[], findings: readonly Finding[], why: CheckReason): LogLine[] {
  const lines: LogLine[] = [];
  if (why === 'scheduled') {
    const { appeared, cleared } = findingChanges(logged, findings);
    if (appeared.length === 0 && cleared.length === 0) return [];
    lines.push(...appeared.map(findingLogLine), ...cleared.map(clearedFindingLogLine));
  } else {
    lines.push(...findings.map(findingLogLine));
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  lines.push({ level: 'info', message: `mount check (${why}): ${hasErrors(findings) ? 'errors found' : 'mount valid'}`, fields: { errors, warnings } });
  return lines;
}

/** What the agent's log last reported of its mount checks, so that each run logs what checkLogLines says for it. */
export class CheckLog {
  #logged: readonly Finding[] = [];

  /** The lines for one run's findings (checkLogLines), remembering those findings for the next run. */
  linesFor(findings: readonly Finding[], why: CheckReason): LogLine[] {
    const lines = checkLogLines(this.#logged, findings, why);
    this.#logged = findings;
    return lines;
  }
}
