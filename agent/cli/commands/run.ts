/** `overlay-warden run`: the long-running agent, until SIGTERM/SIGINT; SIGHUP reloads the configuration. */
import { Agent } from '../../agent.ts';
import type { Config } from '../../config/index.ts';
import { createLogger } from '../../log/index.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../command.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the agent: check the mount, diff the lower store against its baseline, watch, remount when stale',
  usage: '[--config FILE]',
  options: {},
  async run({ io, loadConfig, signal }) {
    let config: Config = loadConfig();
    const logger = createLogger({ level: config.log.level, format: config.log.format, stream: process.stderr });
    let agent = await Agent.start({ config, logger, env: io.env });

    // SIGHUP: a valid new configuration replaces the running agent; a bad one is logged and the old one kept.
    let reloading: Promise<void> = Promise.resolve();
    const onHangup = (): void => {
      reloading = reloading.then(async () => {
        let next: Config;
        try {
          next = loadConfig();
        } catch (error) {
          logger.error(`configuration reload rejected; keeping the running configuration: ${(error as Error).message}`, { code: (error as { code?: string }).code });
          return;
        }
        logger.info('configuration reloaded: restarting the agent with it');
        await agent.close();
        config = next;
        agent = await Agent.start({ config, logger, env: io.env });
      }).catch((error: unknown) => {
        logger.error(`reload failed: ${(error as Error).message}`);
      });
    };
    process.on('SIGHUP', onHangup);
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      logger.info('stopping (signal received)');
      await reloading;
      await agent.close();
    } finally {
      process.off('SIGHUP', onHangup);
      await new Promise<void>((resolve) => logger.on('finish', resolve).end());
    }
    return EXIT.ok;
  },
};
