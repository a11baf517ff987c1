/** `overlay-warden status`: asks the running agent (over its control socket) how the store and the agent are doing. */
import type { AgentStatus } from '../../agent.ts';
import { ConfigError, defaultSettings, formatBytes } from '../../config/index.ts';
import type { HttpStatus } from '../../http/index.ts';
import type { LayersStatus } from '../../layers/index.ts';
import { ControlError, requestControl } from '../../control/index.ts';
import { describeDrift } from '../../decide/index.ts';
import { isWardenError, WardenError } from '../../errors/index.ts';
import { pathsOfDriftEvent, type DriftEvent } from '../../watch/index.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { printEnvelope } from '../json-envelope.ts';
import { statusEnvelope } from '../status-envelope.ts';
import { formatRows, paint, quantity } from '../output.ts';
import type { ScheduleStatus } from '../../schedule/index.ts';
import { alertsStatusRows } from '../status-alerts-rows.ts';
import { lowerDaemonRows } from '../status-daemon-row.ts';
import { scheduleRows } from '../status-schedule-rows.ts';

/** The environment variable that names the control socket, as for hooks/nix-remount-hook. */
const SOCKET_ENV = 'OVERLAY_WARDEN_SOCKET';

/** Paths listed under one event in the text report; `--json` has them all. */
const PATHS_SHOWN = 5;

/** The control socket status asks, and where that path came from (said when nobody answers there). */
export interface SocketChoice {
  readonly path: string;
  readonly from: string;
}

/**
 * The socket, without needing a store: `--socket`, else OVERLAY_WARDEN_SOCKET, else the configuration's
 * `control.socket`, else the default. A configuration that loads but describes no usable store still names its
 * socket for the agent that uses it; one whose store cannot be resolved gives the default socket (status needs no store).
 * @throws ConfigError for a configuration that is unreadable, insecure or invalid apart from its store.
 */
export async function chooseSocket({ values, io, loadConfig }: Pick<CommandContext, 'values' | 'io' | 'loadConfig'>): Promise<SocketChoice> {
  const flag = values['socket'];
  if (typeof flag === 'string' && flag !== '') return { path: flag, from: '--socket' };
  const env = io.env[SOCKET_ENV];
  if (env !== undefined && env !== '') return { path: env, from: `env ${SOCKET_ENV}` };
  try {
    const config = await loadConfig();
    return { path: config.control.socket, from: config.file === undefined ? 'the default control.socket' : `control.socket of ${config.file}` };
  } catch (error) {
    if (!(error instanceof ConfigError && (error.code === 'CONFIG_NO_STORE' || error.code === 'CONFIG_STORE'))) throw error;
    return { path: defaultSettings().control.socket, from: 'the default control.socket (the configuration describes no usable store)' };
  }
}

/** The line of one event (pure): when, what (describeDrift's sentence), and for events of many paths the first few. */
export function eventLines(event: DriftEvent): string[] {
  const lines = [`${event.at}  ${describeDrift(event)}`];
  if (event.type === 'lower-grew' || event.type === 'lower-shrank') {
    const paths = pathsOfDriftEvent(event);
    for (const path of paths.slice(0, PATHS_SHOWN)) lines.push(`    ${path}`);
    if (paths.length > PATHS_SHOWN) lines.push(`    … and ${paths.length - PATHS_SHOWN} more (--json lists all)`);
  }
  return lines;
}

/** `N of M up`, or each watcher that is down, since when and why. */
function watcherSummary(io: CliIo, status: AgentStatus): string {
  const down = status.watchers.flatMap((w) =>
    w.state === 'down' ? [`${w.watcher} down since ${w.since}: ${w.reason}${w.detail === undefined ? '' : ` (${w.detail})`}`] : [],
  );
  if (down.length === 0) return `${status.watchers.filter((w) => w.state === 'up').length} of ${status.watchers.length} up`;
  return paint(io, 'stdout', 'red', down.join('; '));
}

/**
 * The `mount` row: `not checked yet`, `valid (checked AT)`, `valid (checked AT, N warnings: IDS)` (valid, but not
 * well: a filling upper layer), or `invalid (checked AT: N errors, M warnings)`, from the latest mount check; warning
 * ids once each, in the check's order. Pure.
 */
export function mountVerdict(status: Pick<AgentStatus, 'mountValid' | 'lastCheck'>): { readonly style: 'green' | 'yellow' | 'red'; readonly text: string } {
  const check = status.lastCheck;
  if (check === undefined) return { style: 'yellow', text: 'not checked yet' };
  if (!status.mountValid)
    return { style: 'red', text: `invalid (checked ${check.at}: ${quantity(check.errors, 'error')}, ${quantity(check.warnings, 'warning')})` };
  if (check.warnings === 0) return { style: 'green', text: `valid (checked ${check.at})` };
  const ids = [...new Set(check.findings.filter((f) => f.severity === 'warning').map((f) => f.id))].join(', ');
  return { style: 'yellow', text: `valid (checked ${check.at}, ${quantity(check.warnings, 'warning')}: ${ids})` };
}

/** One row per layer: its filesystem, device, size and free space, read-only or not; then disk I/O while work runs (pure). */
export function layerRows(layers: LayersStatus | undefined): Array<readonly [string, string]> {
  if (layers === undefined) return [];
  const rows = layers.layers.map((l): readonly [string, string] => {
    if (l.fsType === undefined) return [`${l.layer} layer`, `${l.path} (${layers.collectedAt === undefined ? 'not looked at yet' : 'no filesystem found'})`];
    const space = l.sizeBytes === undefined ? '' : `, ${formatBytes(l.availableBytes ?? 0)} free of ${formatBytes(l.sizeBytes)}`;
    const device = l.blockDevice === undefined ? l.device : `${l.device} (${[l.blockDevice.type, l.blockDevice.model].filter((s) => s !== '').join(' ')})`;
    return [`${l.layer} layer`, `${l.fsType} on ${device ?? '?'} at ${l.mount ?? '?'}${space}${l.readOnly === true ? ', read-only' : ''}`];
  });
  if (layers.io !== undefined)
    rows.push(['disk I/O', `read ${formatBytes(layers.io.readBytesPerSecond)}/s, write ${formatBytes(layers.io.writeBytesPerSecond)}/s (while work runs)`]);
  return rows;
}

/** The text report (pure apart from `io`'s colour settings). */
export function formatStatus(io: CliIo, status: AgentStatus, socket: string): string {
  const drift = Object.entries(status.drift)
    .filter(([, n]) => n > 0)
    .map(([type, n]) => `${type} ×${n}`);
  const { pending, counters, lastOutcome } = status.remount;
  const check = status.lastCheck;
  const verdict = mountVerdict(status);
  const mount = paint(io, 'stdout', verdict.style, verdict.text);
  const rows: Array<readonly [string, string]> = [
    ['merged store dir', status.mergedStoreDir],
    ['agent started', status.startedAt],
    ['control socket', socket],
    ['mount', mount],
    ['watchers', watcherSummary(io, status)],
    ...lowerDaemonRows(status.lowerDaemon),
    ['drift seen', drift.length === 0 ? 'none' : drift.join(', ')],
    [
      'remount',
      pending === undefined
        ? `not needed (${quantity(counters.remounted, 'remount')} done)`
        : `needed since ${pending.firstFlaggedAt} (${quantity(pending.requests, 'request')}, ${quantity(pending.attempts, 'attempt')})`,
    ],
  ];
  if (lastOutcome !== undefined)
    rows.push(['last remount', `${lastOutcome.status} at ${lastOutcome.finishedAt} (${quantity(lastOutcome.attempts, 'attempt')})`]);
  const http = status.http as HttpStatus | undefined;
  if (http !== undefined) rows.push(['http', `${http.address} (control actions ${http.control ? 'with the bearer token' : 'off: no http.tokenFile'})`]);
  rows.push(...layerRows(status.layers as LayersStatus | undefined));
  // The section the scheduled-work service adds (absent when the agent runs without it).
  if (status.schedule !== undefined) rows.push(...scheduleRows(status.schedule as ScheduleStatus));
  rows.push(...alertsStatusRows(status.alerts));
  const lines = [formatRows(rows)];
  if (check !== undefined && !status.mountValid) {
    for (const f of check.findings.filter((f) => f.severity === 'error')) lines.push(`  ${paint(io, 'stdout', 'red', '✗')} ${f.id}: ${f.message}`);
  }
  const events = status.lastEvents;
  lines.push('', events.length === 0 ? 'no drift events yet' : `recent events (${quantity(events.length, 'event')}, oldest first):`);
  for (const event of events) lines.push(...eventLines(event).map((line) => `  ${line}`));
  return `${lines.join('\n')}\n`;
}

export const statusCommand: Command = {
  name: 'status',
  summary: "the running agent's view: mount valid, watchers up, drift seen, remount state, recent events",
  usage: '[--socket PATH] [--json]',
  options: { socket: { type: 'string' } },
  optionHelp: [['--socket PATH', `the agent's control socket (default: env ${SOCKET_ENV}, else control.socket of the configuration)`]],
  async run(context) {
    const { io, json, signal } = context;
    const socket = await chooseSocket(context);
    let response;
    try {
      response = await requestControl(socket.path, { action: 'status' }, { timeoutMs: 10_000, signal });
    } catch (error) {
      if (!isWardenError(error, 'CONTROL_NO_AGENT')) throw error;
      throw new ControlError('CONTROL_NO_AGENT', `no agent is running: nothing answers on ${socket.path} (${String(error.evidence['errno'])})`, {
        cause: error,
        evidence: { ...error.evidence, socketFrom: socket.from },
        hint: `start it: systemctl start overlay-warden (deploy/systemd/overlay-warden.service), or overlay-warden run. The socket asked is ${socket.from}; for an agent with another control.socket, pass --socket PATH`,
      });
    }
    if (!response.ok) throw new WardenError(response.error.code, response.error.message, { evidence: response.error.evidence, hint: response.error.hint });
    const status = response.result as AgentStatus;
    const envelope = statusEnvelope(status, socket.path);
    if (json) printEnvelope(io, envelope);
    else io.stdout.write(formatStatus(io, status, socket.path));
    return envelope.exitCode;
  },
};
