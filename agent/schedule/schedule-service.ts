/** The scheduled-work service around the agent: a Scheduler on the agent's drift, its `schedule` status section. */
import type { AgentServiceStarter } from '../agent-options.ts';
import { Scheduler, type ScheduleObserver } from './scheduler.ts';

/**
 * The starter `agentServices()` lists: a scheduler for the agent's store, state dir and `schedule` settings, its
 * status in the `schedule` section, its hooks told to `observer` (metrics). Never rejects (a corrupt scrub state is
 * logged and replaced). The scheduler starts once the agent's start-up check has run.
 */
export function scheduleService(observer?: ScheduleObserver): AgentServiceStarter {
  return async (agent, options) => {
    const { config, logger } = options;
    const scheduler = new Scheduler({ host: agent, layout: config.layout, stateDir: config.stateDir, settings: config.schedule, logger, observer });
    agent.extendStatus(() => ({ schedule: scheduler.status() }));
    // The agent's first findings event is its start-up mount check, which comes after it checked its state dir (where
    // the scrub keeps its cursor) and before its start-up drift (which the scheduler must see).
    agent.once('findings', () => scheduler.start());
    return scheduler;
  };
}
