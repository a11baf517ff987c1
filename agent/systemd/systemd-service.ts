/** The agent's systemd notifications as a service around it: readiness after every mount check and remount, its queue for the watchdog. */
import type { AgentServiceStarter } from '../agent-options.ts';
import { readinessOf } from '../http/index.ts';
import type { SystemdNotifier } from './systemd-notifier.ts';

/**
 * Attaches one agent run to the process's notifier, or does nothing when systemd did not start the agent as
 * Type=notify (no notifier). Never rejects.
 */
export function systemdService(notifier: SystemdNotifier | undefined): AgentServiceStarter {
  return async (agent, { config, logger }) => {
    if (notifier === undefined) return { close: async () => undefined };
    const detach = notifier.attach(
      (error) => logger.error(error.message, { code: error.code, ...error.evidence }),
      () => agent.settled(),
    );
    const tell = (): void => void notifier.readiness(readinessOf(agent.status()), config.layout.mergedStoreDir);
    // A mount check ends in `findings` (start, mount change, scheduled, after a remount); a remount failing or
    // recovering shows in `remount`.
    agent.on('findings', tell);
    agent.on('remount', tell);
    const watchdog = notifier.env.watchdogPingMs === undefined ? 'off' : `WATCHDOG=1 every ${notifier.env.watchdogPingMs} ms`;
    logger.info(`notifying systemd (Type=notify): READY=1 once the mount check passes, watchdog ${watchdog}`, { socket: notifier.env.socket });
    return {
      close: async () => {
        agent.off('findings', tell);
        agent.off('remount', tell);
        detach();
      },
    };
  };
}
