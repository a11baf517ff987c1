/** `overlay-warden mount`: sets the store overlay up from the configuration (idempotent), or prints its command or its nix.conf. */
import path from 'node:path';
import { enabledChecks, gatherCheckContext, nixVerdictFor, runChecks } from '../../checks/index.ts';
import { packageRoot, type Config } from '../../config/index.ts';
import type { Finding } from '../../findings/index.ts';
import { existingMount, mountErrors, nixConfForStore, planOverlay, predictNixCheckMount, setupOverlay, type MountOutcome } from '../../mount-setup/index.ts';
import { EXIT, type CliIo, type Command } from '../command.ts';
import { formatFindingsReport } from '../findings-report.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { requireRootFor } from '../needs-root.ts';
import { oneOfOptions } from '../option-values.ts';
import { formatRows } from '../output.ts';

/** What each outcome says first, in words. */
const HEADLINE: Record<MountOutcome['status'], string> = {
  mounted: 'mounted the store overlay',
  'already-mounted': 'the store overlay is already mounted as configured: left alone',
  refused: 'refused: the overlay at the merged store dir is not the configured one',
  'would-mount': 'dry run: nothing created or mounted',
};

/** The exit code: 1 when `mount` refused (the store is not mounted as configured), else 0. Pure. */
export function mountExitCode(outcome: MountOutcome): number {
  return outcome.status === 'refused' ? EXIT.findings : EXIT.ok;
}

/** The human report of an outcome. Pure apart from `io`'s colour settings. */
export function formatMountOutcome(io: CliIo, outcome: MountOutcome): string {
  const rows: Array<readonly [string, string]> = [
    ['merged store dir', outcome.plan.spec.mergedDir],
    ['lower layers', outcome.plan.spec.lowerDirs.join(' : ')],
    ['upper layer', outcome.plan.spec.upperDir],
    ['work dir', `${outcome.plan.spec.workDir}${outcome.plan.workDirSource === 'default' ? ' (default: beside the upper layer)' : ''}`],
    ...outcome.created.map((d): readonly [string, string] => [
      outcome.status === 'would-mount' ? 'would create' : 'created',
      `${d.role} ${d.path} (mode ${d.mode}, owner ${d.uid}:${d.gid})`,
    ]),
    ...(outcome.status === 'mounted' || outcome.status === 'would-mount' || outcome.rolledBack ? [['command', outcome.plan.shellCommand] as const] : []),
    ...(outcome.rolledBack ? [['rolled back', 'the overlay this run mounted failed the check and was unmounted again'] as const] : []),
  ];
  const report = formatFindingsReport(io, {
    title: 'overlay-warden mount',
    subject: HEADLINE[outcome.status],
    details: [],
    findings: outcome.findings,
    summary:
      outcome.status === 'would-mount'
        ? 'not checked (dry run)'
        : `checked: ${mountErrors(outcome.findings).length === 0 ? 'mounted as configured' : 'not as configured'}`,
  });
  return `${formatRows(rows)}\n${report}`;
}

/**
 * The nix.conf text for the store: check-mount judged on the mount table when the overlay is mounted, else on the
 * planned mount. Returns the text and the findings that decided whether the mount is as configured.
 */
export async function printNixConf(
  config: Config,
  env: CliIo['env'],
  signal: AbortSignal,
): Promise<{ text: string; storeUrl: string; checkMountOff: boolean; findings: Finding[] }> {
  const plan = planOverlay(config);
  const context = await gatherCheckContext(config, env);
  const mounted = existingMount(context.mount) === 'overlay';
  const verdict = mounted ? nixVerdictFor(context.mount, config.layout)! : predictNixCheckMount(plan.spec, config.layout);
  const findings = mounted ? mountErrors((await runChecks(enabledChecks(config.checks.disable), context, signal)).findings) : [];
  const conf = nixConfForStore({
    layout: config.layout,
    remountHook: path.join(packageRoot(), 'hooks', 'nix-remount-hook'),
    verdict,
    verdictSource: mounted ? 'mount table' : 'planned mount',
    mountAsConfigured: findings.length === 0,
  });
  return { text: conf.text, storeUrl: conf.storeUrl, checkMountOff: conf.checkMountOff, findings };
}

export const mountCommand: Command = {
  name: 'mount',
  summary: 'set the store overlay up from the configuration (creates upper and work dirs; leaves a right mount alone, refuses a wrong one)',
  usage: '[--dry-run | --print-nix-conf] [--json]',
  options: { 'dry-run': { type: 'boolean', default: false }, 'print-nix-conf': { type: 'boolean', default: false } },
  optionHelp: [
    ['--dry-run', 'print what would be created and the exact mount command; change nothing'],
    ['--print-nix-conf', 'print the nix.conf settings for this store (store URL with remount-hook, check-mount where needed)'],
  ],
  async run({ io, json, loadConfig, signal, values }) {
    const what = oneOfOptions(values, ['dry-run', 'print-nix-conf']);
    const config = await loadConfig();
    if (what === 'print-nix-conf') {
      const conf = await printNixConf(config, io.env, signal);
      if (json)
        printEnvelope(
          io,
          resultEnvelope('mount', EXIT.ok, conf.findings, {
            status: 'nix-conf',
            nixConf: conf.text,
            storeUrl: conf.storeUrl,
            checkMountOff: conf.checkMountOff,
          }),
        );
      else io.stdout.write(conf.text);
      return EXIT.ok;
    }
    if (what !== 'dry-run') requireRootFor('mount', 'it creates the layer dirs and mounts the overlay');
    const outcome = await setupOverlay(config, io.env, signal, { dryRun: what === 'dry-run' });
    const exitCode = mountExitCode(outcome);
    if (json) {
      printEnvelope(
        io,
        resultEnvelope('mount', exitCode, outcome.findings, {
          status: outcome.status,
          command: outcome.plan.shellCommand,
          argv: outcome.plan.argv,
          lowerDirs: outcome.plan.spec.lowerDirs,
          upperLayer: outcome.plan.spec.upperDir,
          workDir: outcome.plan.spec.workDir,
          mergedStoreDir: outcome.plan.spec.mergedDir,
          created: outcome.created,
          rolledBack: outcome.rolledBack,
        }),
      );
    } else {
      io.stdout.write(formatMountOutcome(io, outcome));
    }
    return exitCode;
  },
};
