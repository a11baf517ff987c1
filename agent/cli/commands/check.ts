/** `overlay-warden check`: one-shot mount and layer check; a report grouped by severity, or JSON; exit 1 on error-level findings. */
import { nixVerdictFor, type ReadMountFacts, type MountFacts, type CheckOutcome, runMountCheck } from '../../checks/index.ts';
import { hasErrors, type Finding } from '../../findings/index.ts';
import type { NixCheckMountVerdict } from '../../mount/index.ts';
import type { StoreLayout } from '../../store/index.ts';
import { EXIT, type CliIo, type Command } from '../command.ts';
import { quantity } from '../output.ts';
import { formatFindingsReport } from '../findings-report.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';

/** The `mount` part of `check --json`'s result: where the store is mounted and Nix's own verdict on that mount. */
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

/** The `mount` part of the JSON result. Pure. */
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

/**
 * The human report: findings grouped by severity (errors first), each with its message, and for errors and
 * warnings the evidence and the hint; then a one-line summary with the checks' count and time.
 */
export function formatCheckReport(
  io: CliIo,
  layout: StoreLayout,
  mountinfoFile: string,
  findings: readonly Finding[],
  checks: readonly CheckOutcome[],
): string {
  const ms = checks.reduce((sum, o) => sum + o.durationMs, 0);
  const failed = checks.filter((o) => !o.ok).length;
  return formatFindingsReport(io, {
    title: 'overlay-warden check',
    subject: layout.mergedStoreDir,
    details: [`store ${layout.url}`, `mount table ${mountinfoFile}`],
    findings,
    summary: `${quantity(checks.length, 'check')} in ${ms.toFixed(1)} ms${failed > 0 ? `, ${failed} could not run` : ''}`,
    perIdLimit: Number.POSITIVE_INFINITY,
  });
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'check the mount and both layers once (exit 0 ok, 1 error-level findings, 2 bad usage or configuration)',
  usage: '[--mountinfo FILE] [--json]',
  options: { mountinfo: { type: 'string' } },
  optionHelp: [['--mountinfo FILE', 'check a saved mount table instead of /proc/self/mountinfo (bug reports, tests)']],
  async run({ io, json, loadConfig, signal }) {
    const config = await loadConfig();
    const { findings, checks, context } = await runMountCheck(config, io.env, signal);
    const exitCode = hasErrors(findings) ? EXIT.findings : EXIT.ok;
    if (json) {
      printEnvelope(io, resultEnvelope('check', exitCode, findings, { checks, layout: config.layout, mount: mountSummary(context.mount, config.layout) }));
    } else {
      io.stdout.write(formatCheckReport(io, config.layout, context.mount.mountinfoFile, findings, checks));
    }
    return exitCode;
  },
};
