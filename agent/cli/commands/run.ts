/** `overlay-warden run`: the long-running agent, until SIGTERM/SIGINT; SIGHUP reloads the configuration. */
import { Agent } from '../../agent.ts';
import { agentServices } from '../../agent-services.ts';
import type { Config } from '../../config/index.ts';
import { messageOf } from '../../errors/index.ts';
import { createLogger } from '../../log/index.ts';
import { type Command, EXIT } from '../command.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import type { Finding } from '../../findings/index.ts';
import { requireRootFor } from '../needs-root.ts';

type RunLogger = ReturnType<typeof createLogger>;

/** The agent's logger on stderr; `--json` selects JSON lines whatever `log.format` says. */
const loggerFor = (config: Config, json: boolean): RunLogger =>
  createLogger({ level: config.log.level, format: json ? 'json' : config.log.format, stream: process.stderr });

/** Ends a logger once everything it was given is written (the stream itself stays open). */
const endLogger = (logger: RunLogger): Promise<void> => new Promise<void>((resolve) => logger.on('finish', resolve).end());

const codeOf = (error: unknown): string | undefined => (error as { code?: string }).code;

export const runCommand: Command = {
  name: 'run',
  summary: 'run the agent: check the mount, diff the lower store against its baseline, watch, remount when stale',
  usage: '[--config FILE] [--json]',
  options: {},
  optionHelp: [['--json', 'log JSON lines on stderr (whatever log.format says); on exit, the JSON envelope on stdout']],
  async run({ io, json, loadConfig, signal }) {
    requireRootFor('run', 'it mounts and remounts the overlay');
    let config: Config = await loadConfig();
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
    const first = Agent.start({ config, logger, env: io.env, services: agentServices() });
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
      try {
        agent = await Agent.start({ config: next, logger: nextLogger, env: io.env, services: agentServices() });
        config = next;
        logger = nextLogger;
        await endLogger(previous.logger);
        return;
      } catch (error) {
        await endLogger(nextLogger);
        logger.error(`the agent could not start with the reloaded configuration; going on with the previous one: ${messageOf(error)}`, { code: codeOf(error) });
      }
      try {
        agent = await Agent.start({ config: previous.config, logger: previous.logger, env: io.env, services: agentServices() });
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
