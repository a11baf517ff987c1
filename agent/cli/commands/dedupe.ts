/** `overlay-warden dedupe`: upper copies of paths the lower store holds too; `--apply` removes those that equal the lower copy and the DB. */
import { availableParallelism } from 'node:os';
import { formatBytes, type Config } from '../../config/index.ts';
import { ControlError, requestControl, socketAnswers } from '../../control/index.ts';
import { hasErrors } from '../../findings/index.ts';
import type { AnsweredDedupeReport, DedupeReport } from '../../repair/index.ts';
import { EXIT, interruptedExitCode, type CliIo, type Command, type CommandContext } from '../command.ts';
import { formatFindingsReport } from '../findings-report.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { requireRootFor } from '../needs-root.ts';
import { wholeNumberOption } from '../option-values.ts';
import { printError, quantity } from '../output.ts';
import { remountOnce } from '../remount-runs.ts';

/** Test hook: `after-set-aside` kills the run (SIGKILL) right after it set the first copy aside, before deleting it. */
export const DEDUPE_CRASH_ENV = 'OVERLAY_WARDEN_TEST_DEDUPE_CRASH';
/** Paths listed one a line in the human report (`--json` has them all, up to what the agent answers). */
const PATHS_SHOWN = 50;
/** The control server stops a handler after 15 minutes; the client waits a minute more for its answer. */
const AGENT_ANSWER_MS = 16 * 60_000;

/** What `dedupe --json` gives as its `result`: the report without its findings (they are the envelope's), and how it ran. */
export type DedupeResult = Omit<AnsweredDedupeReport, 'findings'> & { readonly via: 'agent' | 'direct' };

/** One duplicate's line in the human report (pure). */
export function dedupePathLine(p: DedupeReport['paths'][number], applied: boolean): string {
  const bytes = p.bytes === null ? '' : ` (${formatBytes(p.bytes)})`;
  const what =
    p.verdict === 'remove'
      ? p.removed
        ? 'removed'
        : applied
          ? `not removed: ${p.error ?? ''}`
          : 'would remove: both copies match the DB'
      : p.verdict === 'differs'
        ? `left: the copies differ (DB matches ${p.matchesDb ?? '?'})`
        : p.verdict === 'unregistered'
          ? 'left: the lower DB does not register it'
          : `left: could not hash (${p.error ?? ''})`;
  return `${p.path}${bytes}: ${what}`;
}

/** The human report (pure apart from `io`'s colour settings). */
export function formatDedupeReport(io: CliIo, subject: string, result: DedupeResult, findings: DedupeReport['findings']): string {
  const shown = result.paths.slice(0, PATHS_SHOWN).map((p) => dedupePathLine(p, result.applied));
  const more = result.paths.length - shown.length + result.pathsOmitted;
  const leftovers =
    result.leftovers.found.length === 0
      ? []
      : [`leftovers of an interrupted dedupe: ${result.leftovers.found.length} found, ${result.leftovers.deleted.length} deleted (finished)`];
  const remount = result.remount === null ? [] : [`remount: ${result.remount.status}${result.remount.fresh ? ', view fresh' : ''}`];
  const check =
    result.check === null
      ? []
      : [`check: ${result.check.servedFromLower} of ${quantity(result.check.paths, 'path')} served from the lower layer with the DB's hash`];
  const verb = result.applied
    ? `${result.removed} removed, ${formatBytes(result.bytes)} freed`
    : `${result.removable} would be removed, freeing ${formatBytes(result.bytes)} (dry run: --apply removes them)`;
  return formatFindingsReport(io, {
    title: `overlay-warden dedupe${result.applied ? ' --apply' : ''}`,
    subject,
    details: [
      `${result.via === 'agent' ? 'run by the agent' : 'run here'}${result.lock === null ? '' : `, holding ${result.lock.file}`}`,
      ...shown,
      ...(more > 0 ? [`… and ${more} more (--json lists them)`] : []),
      ...leftovers,
      ...remount,
      ...check,
    ],
    findings,
    partial: result.partial ? `interrupted after removing ${result.removed} of ${result.removable}` : undefined,
    summary: `${quantity(result.duplicates, 'duplicate')}: ${verb}, in ${result.seconds.toFixed(1)} s`,
  });
}

export const dedupeCommand: Command = {
  name: 'dedupe',
  summary: 'list upper copies of paths the lower store holds too; --apply removes those equal to the lower copy and the DB',
  usage: '[--apply] [--lock-timeout SECONDS] [--direct] [--json]',
  options: {
    apply: { type: 'boolean', default: false },
    direct: { type: 'boolean', default: false },
    'lock-timeout': { type: 'string' },
  },
  optionHelp: [
    ['--apply', "remove them (under Nix's gc.lock: renamed aside, deleted, one remount, the merged view checked); default: a dry run"],
    ['--lock-timeout SECONDS', "how long --apply waits for Nix's gc.lock (a GC, an optimise, another repair) before refusing (default 60, at most 600)"],
    ['--direct', 'run here even when an agent answers on the control socket (its remount still goes through the agent)'],
  ],
  async run(context) {
    const { values, io, json, signal } = context;
    const apply = values['apply'] === true;
    const lockTimeoutSeconds = wholeNumberOption(values, 'lock-timeout', 0, 600) ?? 60;
    const config = await context.loadConfig();
    const viaAgent = values['direct'] !== true && (await socketAnswers(config.control.socket));
    let report: AnsweredDedupeReport;
    try {
      report = viaAgent ? await dedupeThroughAgent(config, apply, lockTimeoutSeconds, signal) : await dedupeHere(context, config, apply, lockTimeoutSeconds);
    } catch (error) {
      // Stopped while waiting for the lock or reading the layers and DBs: nothing was removed yet.
      if (!signal.aborted) throw error;
      printError(io, json, error, { command: 'dedupe', exitCode: interruptedExitCode(signal) });
      return interruptedExitCode(signal);
    }
    const { findings, ...rest } = report;
    const result: DedupeResult = { ...rest, via: viaAgent ? 'agent' : 'direct' };
    const failed = hasErrors(findings) || (result.remount !== null && result.remount.status !== 'remounted');
    const exitCode = result.partial ? interruptedExitCode(signal) : failed ? EXIT.findings : EXIT.ok;
    if (json) printEnvelope(io, resultEnvelope('dedupe', exitCode, findings, result));
    else io.stdout.write(formatDedupeReport(io, config.layout.mergedStoreDir, result, findings));
    return exitCode;
  },
};

async function dedupeThroughAgent(config: Config, apply: boolean, lockTimeoutSeconds: number, signal: AbortSignal): Promise<AnsweredDedupeReport> {
  const response = await requestControl(config.control.socket, { action: 'dedupe', apply, lockTimeoutSeconds }, { timeoutMs: AGENT_ANSWER_MS, signal });
  if (!response.ok) {
    // The agent's own error (a GC lock that timed out, unreadable layers) keeps its code.
    throw new ControlError('CONTROL_HANDLER_FAILED', `the agent's dedupe failed: ${response.error.message}`, {
      evidence: { code: response.error.code, ...response.error.evidence },
      ...(response.error.hint === undefined ? {} : { hint: response.error.hint }),
    });
  }
  return response.result as AnsweredDedupeReport;
}

async function dedupeHere(context: CommandContext, config: Config, apply: boolean, lockTimeoutSeconds: number): Promise<AnsweredDedupeReport> {
  if (apply) requireRootFor('dedupe --apply', "it takes Nix's gc.lock, deletes from the upper layer and remounts");
  // Loaded here: the pool and the readers are heavy, and only this path needs them.
  const [{ runDedupe, answeredReport }, { WorkerPool }] = await Promise.all([import('../../repair/index.ts'), import('../../pool/index.ts')]);
  const size = config.pool.size;
  const pool = new WorkerPool({ maxThreads: size === 'auto' ? availableParallelism() : size });
  try {
    const report = await runDedupe({
      layout: config.layout,
      apply,
      lockTimeoutMs: lockTimeoutSeconds * 1000,
      pool,
      signal: context.signal,
      requestRemount: () => remountOnce(config, context.io.env, context.signal, 'overlay-warden dedupe --apply'),
      crashAfterSetAside: context.io.env[DEDUPE_CRASH_ENV] === 'after-set-aside',
    });
    return { ...answeredReport(report), paths: report.paths, pathsOmitted: 0 };
  } finally {
    await pool.close();
  }
}
