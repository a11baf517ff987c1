/**
 * `run --mount`: the agent sets the overlay up as `overlay-warden mount` does before it starts. A refusal or a
 * failure is logged, not fatal in itself: the agent then starts on the store as it is, and its own checks report it
 * not ready and alert (without a lower store dir it cannot start at all, and exits for its supervisor to restart it).
 */
import type { Config } from '../../config/index.ts';
import { messageOf } from '../../errors/index.ts';
import type { CliIo } from '../command.ts';

/** What this needs of the agent's logger. */
export interface MountLogger {
  info(message: string, meta?: object): unknown;
  error(message: string, meta?: object): unknown;
}

/**
 * Sets the overlay up and logs the outcome: mounted, already mounted, refused (a wrong mount is there), or the error
 * that stopped it. Never rejects, but with `signal`'s abort reason.
 */
export async function mountBeforeStart(config: Config, env: CliIo['env'], signal: AbortSignal, logger: MountLogger): Promise<void> {
  const { setupOverlay, mountErrors } = await import('../../mount-setup/index.ts');
  try {
    const outcome = await setupOverlay(config, env, signal, { dryRun: false });
    const meta = { status: outcome.status, mergedStoreDir: outcome.plan.spec.mergedDir, created: outcome.created.map((d) => d.path) };
    if (outcome.status === 'refused') {
      const errors = mountErrors(outcome.findings);
      logger.error(`--mount: refused: ${errors.map((f) => `${f.id}: ${f.message}`).join('; ')}`, { ...meta, findings: errors.map((f) => f.id) });
    } else if (outcome.status === 'mounted') {
      logger.info(`--mount: mounted the store overlay: ${outcome.plan.shellCommand}`, meta);
    } else {
      logger.info('--mount: the store overlay is already mounted as configured', meta);
    }
  } catch (error) {
    signal.throwIfAborted();
    logger.error(`--mount: the overlay could not be set up: ${messageOf(error)}`, { code: (error as { code?: unknown }).code });
  }
}
