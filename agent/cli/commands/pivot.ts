/** `overlay-warden pivot`: before a lower GC or replacement, copies up what the upper DB needs and the lower store will lose. */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { hashingThreads } from '../../audit/index.ts';
import type { Config } from '../../config/index.ts';
import { requestControl, socketAnswers } from '../../control/index.ts';
import { WardenError } from '../../errors/index.ts';
import { DEFAULT_LOCK_TIMEOUT_SECONDS, MAX_LOCK_TIMEOUT_SECONDS, type PivotReport, type PivotRequest } from '../../repair/index.ts';
import { EXIT, type CliIo, type Command, type CommandContext } from '../command.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { requireRootFor } from '../needs-root.ts';
import { wholeNumberOption } from '../option-values.ts';
import { formatRows, paint, quantity } from '../output.ts';
import { UsageError } from '../usage-error.ts';
import { remountHere, remountWaitMs } from '../remount-runs.ts';

/** Copied paths listed by name in the human report (the count is always complete; --json lists all). */
const LISTED = 20;

/** How long the CLI waits for the agent's answer to a pivot: the lock wait, the agent's handler limit, a remount. */
function pivotWaitMs(request: PivotRequest, config: Config): number {
  return request.lockTimeoutSeconds * 1000 + 15 * 60_000 + remountWaitMs(config.remount);
}

/** The exit code: 1 when anything needed could not be secured (the planned GC would still break something) or did not fit. Pure. */
export function pivotExitCode(report: PivotReport): number {
  const remountFailed = report.remount !== null && report.remount.status !== 'remounted';
  return report.problems.length > 0 || remountFailed || report.notServed.length > 0 || report.space?.fits === false ? EXIT.findings : EXIT.ok;
}

/** The human report. Pure apart from `io`'s colour settings. */
export function formatPivotReport(io: CliIo, report: PivotReport, via: 'agent' | 'direct'): string {
  const c = (style: Parameters<typeof paint>[2], text: string): string => paint(io, 'stdout', style, text);
  const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
  const lines: string[] = [];
  const copied = report.dryRun ? report.toCopy.map((p) => p.path) : report.copied;
  lines.push(
    report.dryRun
      ? c('bold', `dry run: would copy ${quantity(report.toCopy.length, 'path')} (${mib(report.copyBytes)} of NAR) into the upper layer`)
      : c(report.problems.length === 0 ? ['green', 'bold'] : ['yellow', 'bold'], `copied ${quantity(report.copied.length, 'path')} into the upper layer`),
  );
  const rows: Array<readonly [string, string]> = [
    ['ran', via === 'agent' ? 'by the agent' : 'here (no agent answers)'],
    [
      'vanishing',
      `${report.source.kind === 'dead' ? '--dead' : '--lower-db'} ${report.source.file}${report.source.listed === null ? '' : ` (${quantity(report.source.listed, 'path')})`}`,
    ],
    ['already upper', quantity(report.alreadyUpper, 'vanishing path')],
  ];
  if (report.space !== null) {
    rows.push([
      'space',
      `${mib(report.space.neededBytes)} and ${report.space.neededInodes} inodes needed, ${mib(report.space.availableBytes)} free: ${report.space.fits ? 'fits' : c('red', 'does not fit')}`,
    ]);
  }
  if (!report.dryRun) {
    rows.push(['written', mib(report.bytesWritten)]);
    if (report.leftoversRemoved > 0)
      rows.push(['leftovers', `${quantity(report.leftoversRemoved, 'temporary copy', 'temporary copies')} of an interrupted run removed`]);
    rows.push([
      'remount',
      report.remount === null
        ? report.mounted
          ? 'not needed (nothing copied)'
          : 'none: the merged store dir is not mounted (the copies show when it is)'
        : `${report.remount.status}${report.remount.fresh ? ', view fresh' : ''}${report.remount.error === undefined ? '' : `: ${report.remount.error}`}${report.notServed.length > 0 ? `; ${report.notServed.length} copies not served by the merged store dir` : ''}`,
    ]);
  }
  lines.push(formatRows(rows));
  for (const path of copied.slice(0, LISTED)) lines.push(`  ${report.dryRun ? '→' : c('green', '✓')} ${path}`);
  if (copied.length > LISTED) lines.push(`  … and ${copied.length - LISTED} more (--json lists them all)`);
  for (const problem of report.problems) {
    lines.push(`  ${c('red', '✗')} ${problem.path} [${problem.reason}]: ${problem.message}`);
    if (problem.command !== undefined) lines.push(`    ${c('green', 'fix:')} ${problem.command}`);
  }
  if (report.problems.some((p) => p.reason === 'unregistered'))
    lines.push(c('dim', 'register those paths with the commands above, then run pivot again before the lower store changes'));
  return `${lines.join('\n')}\n`;
}

/** The request the command line asks for (pure apart from resolving the files against the working directory). */
export function pivotRequestOf(values: CommandContext['values']): PivotRequest {
  const dead = values['dead'];
  const lowerDb = values['lower-db'];
  if ((typeof dead === 'string') === (typeof lowerDb === 'string')) {
    throw new UsageError('USAGE_CONFLICT', 'give the paths about to vanish: either --dead FILE or --lower-db NEW-DB, not both', {
      evidence: { options: ['--dead', '--lower-db'] },
      hint: 'overlay-warden pivot --dead <(nix-store --store LOWER-ROOT --gc --print-dead)',
    });
  }
  const lockTimeoutSeconds = wholeNumberOption(values, 'lock-timeout', 0, MAX_LOCK_TIMEOUT_SECONDS) ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
  const source = typeof dead === 'string' ? { kind: 'dead' as const, file: resolve(dead) } : { kind: 'lower-db' as const, file: resolve(lowerDb as string) };
  return { source, dryRun: values['dry-run'] === true, lockTimeoutSeconds };
}

export const pivotCommand: Command = {
  name: 'pivot',
  summary: 'before a lower GC or replacement: copy into the upper layer what the upper DB needs and the lower store will lose',
  usage: '(--dead FILE | --lower-db NEW-DB) [--dry-run] [--lock-timeout SECONDS] [--json]',
  options: {
    dead: { type: 'string' },
    'lower-db': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'lock-timeout': { type: 'string' },
  },
  optionHelp: [
    ['--dead FILE', 'the lower paths about to vanish, one store path a line (nix-store --store LOWER-ROOT --gc --print-dead)'],
    ['--lower-db NEW-DB', 'the DB the lower store is about to be replaced with: what it lacks vanishes'],
    ['--dry-run', 'list what would be copied, its size and whether it fits; take no lock, change nothing'],
    [
      '--lock-timeout SECONDS',
      `how long to wait for Nix's GC lock (a running GC) before refusing (default ${DEFAULT_LOCK_TIMEOUT_SECONDS}, at most ${MAX_LOCK_TIMEOUT_SECONDS})`,
    ],
  ],
  async run(context) {
    const request = pivotRequestOf(context.values);
    const config = await context.loadConfig();
    if (await socketAnswers(config.control.socket)) return pivotThroughAgent(context, config, request);
    if (!request.dryRun) requireRootFor('pivot', "it writes the upper layer and takes Nix's GC lock");
    const { runPivotRequest } = await import('../../repair/index.ts');
    const report = await runPivotRequest(request, {
      layout: config.layout,
      threads: hashingThreads(config.pool.size, availableParallelism()),
      remount: () => remountHere(config, context.io.env, 'overlay-warden pivot', context.signal),
      signal: context.signal,
    });
    return reportPivot(context, report, 'direct');
  },
};

async function pivotThroughAgent(context: CommandContext, config: Config, request: PivotRequest): Promise<number> {
  const { pivotRequestFields } = await import('../../repair/index.ts');
  const response = await requestControl(
    config.control.socket,
    { action: 'pivot', ...pivotRequestFields(request) },
    { timeoutMs: pivotWaitMs(request, config), signal: context.signal },
  );
  if (!response.ok) {
    // The agent's own error (a bad --dead line, no space, the GC lock held), code and all, as a run here would throw it.
    throw new WardenError(response.error.code, `the agent's pivot failed: ${response.error.message}`, {
      evidence: { via: 'agent', ...response.error.evidence },
      ...(response.error.hint === undefined ? {} : { hint: response.error.hint }),
    });
  }
  return reportPivot(context, response.result as PivotReport, 'agent');
}

function reportPivot({ io, json }: CommandContext, report: PivotReport, via: 'agent' | 'direct'): number {
  const exitCode = pivotExitCode(report);
  if (json) printEnvelope(io, resultEnvelope('pivot', exitCode, [], { via, ...report }));
  else io.stdout.write(formatPivotReport(io, report, via));
  return exitCode;
}
