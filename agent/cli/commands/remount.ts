/** `overlay-warden remount`: asks the running agent to remount (serialised with its own remounts), or with --direct remounts itself. */
import { ControlError, socketAnswers } from '../../control/index.ts';
import type { Config } from '../../config/index.ts';
import type { RemountOutcome } from '../../remount/index.ts';
import { EXIT, type CliIo, type Command, type CommandContext } from '../command.ts';
import { requireRootFor } from '../needs-root.ts';
import { oneOfOptions } from '../option-values.ts';
import { formatRows, paint, quantity } from '../output.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { askAgentToRemount, remountHere, remountWaitMs } from '../remount-runs.ts';

/** The human report of an outcome. Pure apart from `io`'s colour settings. */
export function formatRemountOutcome(io: CliIo, outcome: RemountOutcome, via: 'agent' | 'direct'): string {
  const c = (style: Parameters<typeof paint>[2], text: string): string => paint(io, 'stdout', style, text);
  const attempts = quantity(outcome.attempts, 'attempt');
  const headline =
    outcome.status === 'remounted'
      ? c(['green', 'bold'], 'remounted')
      : outcome.status === 'cancelled'
        ? c(['yellow', 'bold'], 'cancelled')
        : c(['red', 'bold'], 'remount failed');
  const rows: Array<readonly [string, string]> = [
    ['ran', via === 'agent' ? `by the agent, run ${outcome.run}, ${attempts}` : `directly (no agent), ${attempts}`],
    ['coalesced', outcome.requests > 1 ? `yes: this run answered ${outcome.requests} requests` : 'no: this run answered this request alone'],
    ['view', outcome.fresh ? 'fresh: the check afterwards found no error' : 'not verified fresh'],
  ];
  if (outcome.lastAttempt !== undefined) {
    const a = outcome.lastAttempt;
    rows.push([
      'command',
      `${a.argv.join(' ')} → ${a.timedOut ? 'timed out' : a.exitCode === undefined ? `killed by ${a.signal ?? 'a signal'}` : `exit ${a.exitCode}`} in ${a.durationMs} ms`,
    ]);
  }
  const lines = [headline, formatRows(rows)];
  if (outcome.error !== undefined) {
    lines.push(`${c('red', 'error:')} ${outcome.error.message} [${outcome.error.code}]`);
    if (outcome.error.hint !== undefined) lines.push(`${c('green', 'hint:')} ${outcome.error.hint}`);
  }
  const stderr = outcome.lastAttempt?.stderr.text.trim();
  if (outcome.status !== 'remounted' && stderr) lines.push(c('dim', `stderr of the last attempt:\n${stderr.split('\n').slice(-10).join('\n')}`));
  for (const f of outcome.findings.filter((f) => f.severity === 'error')) lines.push(`  ${c('red', '✗')} ${f.id}: ${f.message}`);
  return `${lines.join('\n')}\n`;
}

export const remountCommand: Command = {
  name: 'remount',
  summary: 'remount the store overlay through the running agent (serialised, checked afterwards), or --direct without one',
  usage: '[--direct] [--no-wait] [--json]',
  options: {
    direct: { type: 'boolean', default: false },
    'no-wait': { type: 'boolean', default: false },
  },
  optionHelp: [
    ['--direct', 'no agent: run the remount command here (retries, timeout) and check the mount afterwards'],
    ['--no-wait', 'ask the agent and return at once, without waiting for the outcome'],
  ],
  async run(context) {
    const how = oneOfOptions(context.values, ['direct', 'no-wait'], '--direct runs the remount here, and waits for it');
    if (how === 'direct') requireRootFor('remount --direct', 'it remounts the overlay itself');
    const config = await context.loadConfig();
    return how === 'direct' ? remountDirectly(context, config) : remountThroughAgent(context, config);
  },
};

async function remountThroughAgent(context: CommandContext, config: Config): Promise<number> {
  const { io, json } = context;
  const wait = context.values['no-wait'] !== true;
  const result = await askAgentToRemount(config, `overlay-warden remount (uid ${process.getuid?.() ?? '?'})`, {
    wait,
    timeoutMs: wait ? remountWaitMs(config.remount) : 10_000,
    signal: context.signal,
  });
  if (!wait) {
    if (json) printEnvelope(io, resultEnvelope('remount', EXIT.ok, [], { via: 'agent', queued: true, outcome: null }));
    else io.stdout.write('the agent has the request; `overlay-warden status` shows how it goes\n');
    return EXIT.ok;
  }
  return reportOutcome(context, result as RemountOutcome, 'agent');
}

/** Prints an outcome (with --json: the check's findings at the top, the rest of the outcome as the result); its exit code. */
function reportOutcome({ io, json }: CommandContext, outcome: RemountOutcome, via: 'agent' | 'direct'): number {
  const exitCode = outcome.status === 'remounted' ? EXIT.ok : EXIT.findings;
  if (json) {
    const { findings, ...rest } = outcome;
    printEnvelope(io, resultEnvelope('remount', exitCode, findings, { via, queued: false, outcome: rest }));
  } else io.stdout.write(formatRemountOutcome(io, outcome, via));
  return exitCode;
}

async function remountDirectly(context: CommandContext, config: Config): Promise<number> {
  const { io } = context;
  if (await socketAnswers(config.control.socket)) {
    throw new ControlError('CONTROL_SOCKET_IN_USE', `an agent answers on ${config.control.socket}; --direct would remount behind its back`, {
      evidence: { socket: config.control.socket },
      hint: 'run `overlay-warden remount` without --direct (the agent serialises and checks it), or stop the agent first',
    });
  }
  return reportOutcome(context, await remountHere(config, io.env, 'overlay-warden remount --direct', context.signal), 'direct');
}
