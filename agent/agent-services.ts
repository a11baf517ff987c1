/**
 * The services `overlay-warden run` starts around the agent, in order: each subscribes to the agent's events and
 * adds its section to `status`. Started before the agent (so they see its start-up check and drift) and closed first.
 */
import type { AgentServiceStarter } from './agent-options.ts';
import { scheduleService } from './schedule/index.ts';

/** The services for one agent run (a SIGHUP reload starts them anew with the new configuration). */
export function agentServices(): readonly AgentServiceStarter[] {
  // Metrics wire their hooks in here when merged: scheduleService({ taskDone: …, bytesHashed: …, … }).
  return [scheduleService()];
}
