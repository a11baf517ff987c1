/** `overlay-warden status`: asks the running agent (over its control socket) how the store and the agent are doing. */
import { requestControl } from '../../control/index.ts';
import type { AgentStatus } from '../../agent.ts';
import { EXIT, type Command } from '../command.ts';
import { formatRows, paint, printJson } from '../output.ts';
import { WardenError } from '../../errors/index.ts';

/**
 * The `mount` row of `status`: `valid`, `valid, with N warning(s): IDS` (a filling upper layer is valid but not
 * well), or `invalid (N errors: IDS)`, from the latest mount check; ids once each, in the check's order. Pure.
 */
export function mountVerdict(status: Pick<AgentStatus, 'mountValid' | 'lastCheck'>): { readonly style: 'green' | 'yellow' | 'red'; readonly text: string } {
  const ids = (severity: string): string => [...new Set((status.lastCheck?.findings ?? []).filter((f) => f.severity === severity).map((f) => f.id))].join(', ');
  if (!status.mountValid) {
    const errors = status.lastCheck?.errors;
    return { style: 'red', text: errors === undefined ? 'invalid (no check yet)' : `invalid (${errors} error${errors === 1 ? '' : 's'}: ${ids('error')})` };
  }
  const warnings = status.lastCheck?.warnings ?? 0;
  if (warnings === 0) return { style: 'green', text: 'valid' };
  return { style: 'yellow', text: `valid, with ${warnings} warning${warnings === 1 ? '' : 's'}: ${ids('warning')}` };
}

export const statusCommand: Command = {
  name: 'status',
  summary: "the running agent's view: mount valid, drift seen, remount state, recent events",
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
      const mount = mountVerdict(status);
      io.stdout.write(
        `${formatRows([
          ['merged store dir', status.mergedStoreDir],
          ['agent started', status.startedAt],
          ['mount', paint(io, 'stdout', mount.style, mount.text)],
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
    return status.mountValid ? EXIT.ok : EXIT.findings;
  },
};
