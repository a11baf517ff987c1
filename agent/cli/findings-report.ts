/** The human report of a list of findings (audit, verify): grouped by severity like `check`'s, capped per id for big stores. */
import { hasErrors, SEVERITIES, type Finding, type Severity } from '../findings/index.ts';
import type { CliIo } from './command.ts';
import { paint, quantity } from './output.ts';

export interface FindingsReport {
  /** First line, e.g. `overlay-warden audit`. */
  readonly title: string;
  /** What was examined, after the title (the merged store dir). */
  readonly subject: string;
  /** Dim lines under the title (store URL, layers, DBs). */
  readonly details: readonly string[];
  readonly findings: readonly Finding[];
  /** Set when the run was interrupted: says what the report covers. */
  readonly partial?: string | undefined;
  /** What was done, for the last line (`550448 upper and 1000000 lower registrations in 6.1 s`). */
  readonly summary: string;
  /** Findings shown per id and severity before `… and N more` (default 20); `--json` always has all. */
  readonly perIdLimit?: number;
}

const STYLE: Record<Severity, 'red' | 'yellow' | 'cyan'> = { error: 'red', warning: 'yellow', info: 'cyan' };
const MARK: Record<Severity, string> = { error: '✗', warning: '!', info: 'i' };
const TITLE: Record<Severity, string> = { error: 'errors', warning: 'warnings', info: 'info' };

/** A value on one line: strings raw, objects as `key value` pairs, the rest as JSON. */
function inline(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
  }
  return JSON.stringify(value);
}

/** One evidence value as text lines: lists one item a line, nested string lists (chains) joined by arrows, the rest inline. */
export function evidenceLines(key: string, value: unknown): string[] {
  if (!Array.isArray(value)) return [`${key}: ${inline(value)}`];
  if (value.length === 0) return [`${key}: (none)`];
  const chain = (v: unknown): v is string[] => Array.isArray(v) && v.every((w) => typeof w === 'string');
  return [`${key}:`, ...value.map((v) => `  ${chain(v) ? v.join(' → ') : inline(v)}`)];
}

/**
 * Formats the report: findings grouped by severity (errors first); each with its message, and for errors and
 * warnings its evidence and hint (info: message and hint); at most `perIdLimit` per id, then a count of the rest;
 * a PARTIAL banner when interrupted; a verdict line. Colour only on a TTY (see `paint`).
 */
export function formatFindingsReport(io: CliIo, report: FindingsReport): string {
  const c = (style: Parameters<typeof paint>[2], text: string): string => paint(io, 'stdout', style, text);
  const limit = report.perIdLimit ?? 20;
  const lines: string[] = [`${c('bold', report.title)} ${report.subject}`, ...report.details.map((d) => c('dim', d)), ''];
  if (report.partial !== undefined) lines.push(c(['yellow', 'bold'], `PARTIAL REPORT: ${report.partial}`), '');
  const { findings } = report;
  for (const severity of SEVERITIES) {
    const group = findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push(c([STYLE[severity], 'bold'], `${TITLE[severity]} (${group.length})`));
    const shown = new Map<string, number>();
    for (const f of group) {
      const count = (shown.get(f.id) ?? 0) + 1;
      shown.set(f.id, count);
      if (count > limit) continue;
      lines.push(`  ${c(STYLE[severity], MARK[severity])} ${c('bold', f.id)}: ${f.message}`);
      if (severity !== 'info') {
        for (const [key, value] of Object.entries(f.evidence)) {
          if (value === undefined) continue;
          for (const line of evidenceLines(key, value)) lines.push(c('dim', `      ${line}`));
        }
      }
      if (f.hint !== undefined) lines.push(`      ${c('green', 'hint:')} ${f.hint}`);
    }
    for (const [id, count] of shown) if (count > limit) lines.push(c('dim', `  … and ${count - limit} more ${id} (${severity}); --json lists all`));
    lines.push('');
  }
  const count = (s: Severity): number => findings.filter((f) => f.severity === s).length;
  const verdict =
    report.partial !== undefined
      ? c(['yellow', 'bold'], 'INTERRUPTED')
      : hasErrors(findings)
        ? c(['red', 'bold'], 'FAILED')
        : count('warning') > 0
          ? c(['yellow', 'bold'], 'OK with warnings')
          : c(['green', 'bold'], 'OK');
  lines.push(
    `${verdict}: ${quantity(count('error'), 'error')}, ${quantity(count('warning'), 'warning')}, ${count('info')} info; ${report.summary} (--json for all evidence)`,
  );
  return `${lines.join('\n')}\n`;
}
