/** `overlay-warden status`: asks the running agent (over its control socket) how the store and the agent are doing. */
import { requestControl } from '../../control/index.ts';
import type { AgentStatus } from '../../agent.ts';
import { EXIT, type Command } from '../command.ts';
import { formatRows, paint, printJson } from '../output.ts';
import { WardenError } from '../../errors/index.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: "the running agent's view: mount valid, watchers up, drift seen, remount state, recent events",
  usage: '[--json]',
  options: {},
  async run({ io, json, loadConfig, signal }) {
    const config = loadConfig();
    const response = await requestControl(config.control.socket, { action: 'status' }, { timeoutMs: 10_000, signal });
    if (!response.ok) throw new WardenError(response.error.code, response.error.message, { hint: response.error.hint });
    const status = response.result as AgentStatus;
    if (json) {
      printJson(io, status);
    } else {
      const drift = Object.entries(status.drift)
        .filter(([, n]) => n > 0)
        .map(([type, n]) => `${type} ×${n}`);
      const pending = status.remount.pending;
      const down = status.watchers.flatMap((w) =>
        w.state === 'down' ? [`${w.watcher} down since ${w.since}: ${w.reason}${w.detail === undefined ? '' : ` (${w.detail})`}`] : [],
      );
      io.stdout.write(
        `${formatRows([
          ['merged store dir', status.mergedStoreDir],
          ['agent started', status.startedAt],
          [
            'mount',
            status.mountValid ? paint(io, 'stdout', 'green', 'valid') : paint(io, 'stdout', 'red', `invalid (${status.lastCheck?.errors ?? '?'} errors)`),
          ],
          [
            'watchers',
            down.length === 0
              ? `${status.watchers.filter((w) => w.state === 'up').length} of ${status.watchers.length} up`
              : paint(io, 'stdout', 'red', down.join('; ')),
          ],
          ['drift seen', drift.length === 0 ? 'none' : drift.join(', ')],
          [
            'remount',
            pending === undefined
              ? `not needed (${status.remount.counters.remounted} done)`
              : `needed since ${pending.firstFlaggedAt} (${pending.requests} requests, ${pending.attempts} attempts)`,
          ],
        ])}\n`,
      );
      for (const event of status.lastEvents.slice(-5)) io.stdout.write(`  ${event.at} ${event.type}\n`);
    }
    // A watcher down is not all well either: changes in what it watches go unseen until it is back.
    return status.mountValid && status.watchers.every((w) => w.state === 'up') ? EXIT.ok : EXIT.findings;
  },
};
