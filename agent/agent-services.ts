/**
 * The services `overlay-warden run` starts around the agent, in order: each subscribes to the agent's events and
 * adds its section to `status`. Started before the agent (so they see its start-up check and drift) and closed first.
 */
import type { AgentServiceStarter } from './agent-options.ts';
import { alertsService } from './alerts/index.ts';
import { httpService } from './http/index.ts';
import { layersService } from './layers/index.ts';
import { metricsService, type AgentMetrics } from './metrics/index.ts';
import { scheduleService } from './schedule/index.ts';
import { systemdService, type SystemdNotifier } from './systemd/index.ts';

/** What lives as long as the process, across SIGHUP reloads, and the command line's overrides. */
export interface AgentServicesOptions {
  /** The per-process metrics (counters go on across reloads). */
  readonly metrics: AgentMetrics;
  /** `run --listen HOST:PORT`. */
  readonly listen?: string | undefined;
  /** The process's line to systemd, when systemd started it as Type=notify. */
  readonly notifier?: SystemdNotifier | undefined;
}

/** The services for one agent run (a SIGHUP reload starts them anew with the new configuration). */
export function agentServices(options: AgentServicesOptions): readonly AgentServiceStarter[] {
  return [
    metricsService(options.metrics),
    layersService(),
    alertsService({ onDelivery: (sink, outcome) => options.metrics.alertDelivery(sink, outcome) }),
    scheduleService({
      taskDone: (kind, seconds) => options.metrics.scheduleTaskDone(kind, seconds),
      bytesHashed: (bytes) => options.metrics.bytesHashed(bytes),
      pathsVerified: (count) => options.metrics.pathsVerified(count),
      completed: (kind, at) => options.metrics.workCompleted(kind, at),
    }),
    httpService(options),
    // Last: by the time it attaches, the others are up, so READY=1 means the endpoints and sinks are there too.
    systemdService(options.notifier),
  ];
}
