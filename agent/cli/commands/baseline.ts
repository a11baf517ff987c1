/**
 * `overlay-warden baseline`: shows the lower-store baseline the agent diffs against; with `--accept`, asks the
 * running agent (control socket) to accept the lower store as it is now, which resolves its drift alerts.
 */
import type { BaselineAcceptedEvent } from '../../agent.ts';
import { baselineFileOf, loadBaseline } from '../../baseline/index.ts';
import { ControlError, requestControl } from '../../control/index.ts';
import { EXIT, type Command } from '../command.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { formatRows } from '../output.ts';

export const baselineCommand: Command = {
  name: 'baseline',
  summary: 'show the lower-store baseline; --accept: the running agent accepts the lower store as it is now (drift alerts resolve)',
  usage: '[--accept] [--json]',
  options: { accept: { type: 'boolean', default: false } },
  optionHelp: [['--accept', 'the running agent re-baselines the lower store as it is now and resolves its drift alerts']],
  async run(context) {
    const { io, json } = context;
    const config = await context.loadConfig();
    const file = baselineFileOf(config.stateDir);
    if (context.values['accept'] !== true) {
      const baseline = loadBaseline(file, config.layout.lower.realStoreDir);
      const result =
        baseline === undefined
          ? { file, accepted: null, baseline: null }
          : {
              file,
              accepted: null,
              baseline: { realStoreDir: baseline.realStoreDir, createdAt: baseline.createdAt, paths: baseline.entries.count, db: baseline.db?.file ?? null },
            };
      if (json) printEnvelope(io, resultEnvelope('baseline', EXIT.ok, [], result));
      else if (result.baseline === null) io.stdout.write(`no baseline yet in ${file}: the agent records one when it starts\n`);
      else
        io.stdout.write(
          `${formatRows([
            ['file', file],
            ['lower store dir', result.baseline.realStoreDir],
            ['recorded', result.baseline.createdAt],
            ['store paths', String(result.baseline.paths)],
            ['lower DB', result.baseline.db ?? 'none'],
          ])}\n`,
        );
      return EXIT.ok;
    }
    const by = `overlay-warden baseline --accept (uid ${process.getuid?.() ?? '?'})`;
    const response = await requestControl(config.control.socket, { action: 'baseline-accept', by }, { timeoutMs: 60_000, signal: context.signal });
    if (!response.ok) {
      throw new ControlError('CONTROL_HANDLER_FAILED', `the agent refused: ${response.error.message}`, {
        evidence: { code: response.error.code, ...response.error.evidence },
        ...(response.error.hint === undefined ? {} : { hint: response.error.hint }),
      });
    }
    const accepted = response.result as BaselineAcceptedEvent;
    if (json)
      printEnvelope(
        io,
        resultEnvelope('baseline', EXIT.ok, [], { file, accepted: { at: accepted.at, by: accepted.by, paths: accepted.paths }, baseline: null }),
      );
    else io.stdout.write(`the agent accepted the lower store as it is now (${accepted.paths} store paths); its drift alerts resolve\n`);
    return EXIT.ok;
  },
};
