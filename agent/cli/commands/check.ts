/** `overlay-warden check`: one-shot mount and layer check; a report grouped by severity, or JSON; exit 1 on error-level findings. */
import { nixVerdictFor } from '../../checks/nix-check-mount-verdict.ts';
import type { ReadMountFacts, MountFacts } from '../../checks/mount-facts.ts';
import { runMountCheck } from '../../checks/run-mount-check.ts';
import type { CheckOutcome } from '../../checks/run-checks.ts';
import { hasErrors, SEVERITIES, type Finding, type Severity } from '../../findings/index.ts';
import type { NixCheckMountVerdict } from '../../mount/nix-check-mount.ts';
import type { StoreLayout } from '../../store/store-layout.ts';
import { EXIT, type CliIo, type Command } from '../command.ts';
import { paint, printJson } from '../output.ts';

/** What `--json` prints besides findings and checks: where the store is mounted and Nix's own verdict on that mount. */
export interface MountSummary {
  readonly mountinfoFile: string;
  readonly status: MountFacts['status'];
  readonly mergedStoreDir: string;
  /** The mountinfo line of the overlay the store is (visible or hidden by a stacked mount); null when none. */
  readonly overlayLine: string | null;
  /** The line of the mount visible at the merged store dir; null when it is not a mount point. */
  readonly visibleLine: string | null;
  /** Nix's check-mount, emulated on the same table (whatever `check-mount` is set to). */
  readonly nixCheckMount: NixCheckMountVerdict | null;
}

/** The `mount` part of the JSON report. Pure. */
export function mountSummary(facts: MountFacts, layout: StoreLayout): MountSummary {
  const read: ReadMountFacts | undefined = facts.status === 'read' ? facts : undefined;
  return {
    mountinfoFile: facts.mountinfoFile,
    status: facts.status,
    mergedStoreDir: facts.expected.merged.path,
    overlayLine: read?.overlay?.line ?? null,
    visibleLine: read?.visible?.line ?? null,
    nixCheckMount: nixVerdictFor(facts, layout) ?? null,
  };
}

const STYLE: Record<Severity, 'red' | 'yellow' | 'cyan'> = { error: 'red', warning: 'yellow', info: 'cyan' };
const MARK: Record<Severity, string> = { error: '✗', warning: '!', info: 'i' };
const TITLE: Record<Severity, string> = { error: 'errors', warning: 'warnings', info: 'info' };

/** A value on one line: strings raw, objects as `key value` pairs, the rest as JSON. */
function inline(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.entries(value).map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  }
  return JSON.stringify(value);
}

/** One evidence value as text lines: a list gets one line per item. */
function evidenceLines(key: string, value: unknown): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [`${key}: (none)`] : [`${key}:`, ...value.map((v) => `  ${inline(v)}`)];
  return [`${key}: ${inline(value)}`];
}

/**
 * The human report: findings grouped by severity (errors first), each with its message, and for errors and
 * warnings the evidence and the hint; then a one-line summary. Coloured only on a TTY (see `paint`). Pure apart
 * from `io`'s TTY flag and NO_COLOR.
 */
export function formatCheckReport(io: CliIo, layout: StoreLayout, mountinfoFile: string, findings: readonly Finding[], checks: readonly CheckOutcome[]): string {
  const c = (style: Parameters<typeof paint>[2], text: string): string => paint(io, 'stdout', style, text);
  const lines: string[] = [`${c('bold', 'overlay-warden check')} ${layout.mergedStoreDir}`, c('dim', `store ${layout.url}`), c('dim', `mount table ${mountinfoFile}`), ''];
  for (const severity of SEVERITIES) {
    const group = findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push(c([STYLE[severity], 'bold'], `${TITLE[severity]} (${group.length})`));
    for (const f of group) {
      lines.push(`  ${c(STYLE[severity], MARK[severity])} ${c('bold', f.id)}: ${f.message}`);
      if (severity !== 'info') {
        for (const [key, value] of Object.entries(f.evidence)) {
          if (value === undefined) continue;
          for (const line of evidenceLines(key, value)) lines.push(c('dim', `      ${line}`));
        }
      }
      if (f.hint !== undefined) lines.push(`      ${c('green', 'hint:')} ${f.hint}`);
    }
    lines.push('');
  }
  const count = (s: Severity): number => findings.filter((f) => f.severity === s).length;
  const ms = checks.reduce((sum, o) => sum + o.durationMs, 0);
  const failed = checks.filter((o) => !o.ok).length;
  const verdict = hasErrors(findings) ? c(['red', 'bold'], 'FAILED') : count('warning') > 0 ? c(['yellow', 'bold'], 'OK with warnings') : c(['green', 'bold'], 'OK');
  lines.push(`${verdict}: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info; ${checks.length} checks in ${ms.toFixed(1)} ms${failed > 0 ? `, ${failed} could not run` : ''} (--json for all evidence)`);
  return `${lines.join('\n')}\n`;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'check the mount and both layers once (exit 0 ok, 1 error-level findings, 2 bad usage or configuration)',
  usage: '[--mountinfo FILE] [--json]',
  options: { mountinfo: { type: 'string' } },
  optionHelp: [['--mountinfo FILE', 'check a saved mount table instead of /proc/self/mountinfo (bug reports, tests)']],
  async run({ io, json, loadConfig, signal }) {
    const config = loadConfig();
    const { findings, checks, context } = await runMountCheck(config, io.env, signal);
    if (json) {
      printJson(io, { findings, checks, layout: config.layout, mount: mountSummary(context.mount, config.layout) });
    } else {
      io.stdout.write(formatCheckReport(io, config.layout, context.mount.mountinfoFile, findings, checks));
    }
    return hasErrors(findings) ? EXIT.findings : EXIT.ok;
  },
};
