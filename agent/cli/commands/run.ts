/** `overlay-warden run`: the long-running agent, until SIGTERM/SIGINT; SIGHUP reloads the configuration. */
import { Agent } from '../../agent.ts';
import { agentServices } from '../../agent-services.ts';
import type { Config } from '../../config/index.ts';
import { messageOf } from '../../errors/index.ts';
import { createLogger } from '../../log/index.ts';
import { type Command, type CommandContext, EXIT } from '../command.ts';
import { parseListenAddress, type HttpError } from '../../http/index.ts';
import { AgentMetrics } from '../../metrics/index.ts';
import { UsageError } from '../usage-error.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import type { Finding } from '../../findings/index.ts';
import { requireRootFor } from '../needs-root.ts';
import { NOTIFY_ENV_VARS, parseNotifyEnv, SystemdNotifier } from '../../systemd/index.ts';
import { mountBeforeStart } from './run-mount.ts';

type RunLogger = ReturnType<typeof createLogger>;

/** The agent's logger on stderr; `--json` selects JSON lines whatever `log.format` says. */
const loggerFor = (config: Config, json: boolean): RunLogger =>
  createLogger({ level: config.log.level, format: json ? 'json' : config.log.format, stream: process.stderr });

/** Ends a logger once everything it was given is written (the stream itself stays open). */
const endLogger = (logger: RunLogger): Promise<void> => new Promise<void>((resolve) => logger.on('finish', resolve).end());

/**
 * `--listen HOST:PORT`, checked before anything starts.
 * @throws UsageError USAGE_BAD_VALUE naming the option and the value when it is not HOST:PORT.
 */
function listenOption(values: CommandContext['values']): string | undefined {
  const value = values['listen'];
  if (value === undefined) return undefined;
  try {
    parseListenAddress(String(value), '--listen');
  } catch (error) {
    const e = error as HttpError;
    throw new UsageError('USAGE_BAD_VALUE', e.message, {
      cause: e,
      evidence: { option: '--listen', value: String(value), expected: 'HOST:PORT' },
      ...(e.hint === undefined ? {} : { hint: e.hint }),
    });
  }
  return String(value);
}

const codeOf = (error: unknown): string | undefined => (error as { code?: string }).code;

export const runCommand: Command = {
  name: 'run',
  summary: 'run the agent: check the mount, diff the lower store against its baseline, watch, remount when stale',
  usage: '[--config FILE] [--mount] [--listen HOST:PORT] [--alertmanager-url URL]... [--webhook-url URL [--webhook-secret-file FILE]] [--json]',
  options: {
    mount: { type: 'boolean', default: false },
    listen: { type: 'string' },
    'alertmanager-url': { type: 'string', multiple: true },
    'webhook-url': { type: 'string' },
    'webhook-secret-file': { type: 'string' },
  },
  optionHelp: [
    ['--mount', 'first set the overlay up as `overlay-warden mount` does (at start and at each reload); a refusal is logged'],
    ['--listen HOST:PORT', 'serve the HTTP endpoints (/healthz, /readyz, /status, /metrics) there, whatever http.address says'],
    ['--alertmanager-url URL', 'send alerts to this Alertmanager (repeat for an HA pair); replaces alerts.alertmanager.urls'],
    ['--webhook-url URL', 'send alerts as JSON to this webhook too (added to alerts.webhooks)'],
    ['--webhook-secret-file FILE', "sign the webhook's body with HMAC-SHA256 using the secret in FILE (root-only)"],
    ['--json', 'log JSON lines on stderr (whatever log.format says); on exit, the JSON envelope on stdout'],
  ],
  async run({ io, json, loadConfig, signal, values }) {
    requireRootFor('run', 'it mounts and remounts the overlay');
    const listen = listenOption(values);
    // Read before anything can fail late: a malformed NOTIFY_SOCKET or WATCHDOG_USEC stops the start (SystemdError).
    const notifyEnv = parseNotifyEnv(io.env, process.pid);
    // Like sd_notify(unset_environment=1): hooks and alert commands must not inherit the agent's line to systemd.
    for (const name of NOTIFY_ENV_VARS) delete process.env[name];
    let config: Config = await loadConfig();
    // One notifier for the process: READY=1 is sent once, and its watchdog goes on across reloads.
    const notifier = notifyEnv === undefined ? undefined : new SystemdNotifier(notifyEnv);
    // One set of metrics for the process: a reload starts the agent and its services anew, the counters go on.
    const services = agentServices({ metrics: new AgentMetrics(), listen, notifier });
    let logger = loggerFor(config, json);
    let agent: Agent | undefined;
    // Set when a reload left no agent running (the new configuration and the old one both failed to start).
    let failed = false;
    const broken = new AbortController();
    // The latest mount check's findings, for the envelope `--json` prints on exit.
    let lastFindings: readonly Finding[] = [];

    // SIGHUP: a valid new configuration replaces the running agent (log level and format included); a bad one is
    // logged and the old one kept. A new configuration that loads but cannot start falls back to the old one.
    // Reloads run one after another, and only once the first start is over (the handler is installed before it, so
    // an early SIGHUP waits instead of killing the process).
    const mountFirst = values['mount'] === true;
    if (mountFirst) await mountBeforeStart(config, io.env, signal, logger);
    const first = Agent.start({ config, logger, env: io.env, services });
    let reloading: Promise<void> = first.then(
      () => undefined,
      () => undefined,
    );
    const reload = async (): Promise<void> => {
      if (signal.aborted || failed || agent === undefined) return;
      let next: Config;
      try {
        next = await loadConfig();
      } catch (error) {
        logger.error(`configuration reload rejected; keeping the running configuration: ${messageOf(error)}`, { code: codeOf(error) });
        return;
      }
      logger.info('configuration reloaded: restarting the agent with it', { file: next.file, logLevel: next.log.level });
      await agent.close();
      const previous = { config, logger };
      const nextLogger = loggerFor(next, json);
      if (mountFirst) await mountBeforeStart(next, io.env, signal, nextLogger);
      try {
        agent = await Agent.start({ config: next, logger: nextLogger, env: io.env, services });
        config = next;
        logger = nextLogger;
        await endLogger(previous.logger);
        return;
      } catch (error) {
        await endLogger(nextLogger);
        logger.error(`the agent could not start with the reloaded configuration; going on with the previous one: ${messageOf(error)}`, { code: codeOf(error) });
      }
      try {
        agent = await Agent.start({ config: previous.config, logger: previous.logger, env: io.env, services });
      } catch (error) {
        logger.error(`the agent could not restart with the previous configuration either; stopping: ${messageOf(error)}`, { code: codeOf(error) });
        agent = undefined;
        failed = true;
        broken.abort();
      }
    };
    const onHangup = (): void => {
      reloading = reloading.then(reload).catch((error: unknown) => {
        logger.error(`reload failed: ${messageOf(error)}`);
      });
    };
    process.on('SIGHUP', onHangup);
    try {
      agent = await first;
      await new Promise<void>((resolve) => {
        const stop = AbortSignal.any([signal, broken.signal]);
        if (stop.aborted) resolve();
        else stop.addEventListener('abort', () => resolve(), { once: true });
      });
      if (!failed) logger.info('stopping (signal received)');
      await notifier?.stopping();
      await reloading;
      lastFindings = agent?.status().lastCheck?.findings ?? [];
      await agent?.close();
    } finally {
      process.off('SIGHUP', onHangup);
      await endLogger(logger);
    }
    const exitCode = failed ? EXIT.findings : EXIT.ok;
    if (json) {
      const result = { stopped: failed ? 'restart-failed' : 'signal', mergedStoreDir: config.layout.mergedStoreDir };
      printEnvelope(io, resultEnvelope('run', exitCode, lastFindings, result));
    }
    return exitCode;
  },
};
