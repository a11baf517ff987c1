/** The service that feeds the per-process metrics from one running agent: its events, and its status at scrape time. */
import type { AgentServiceStarter } from '../agent-options.ts';
import type { AgentMetrics, PoolGauges } from './agent-metrics.ts';
import { agentVersion } from './agent-version.ts';

/** The pool of the schedule service's status section, when it has a well-formed one (another branch owns its type). */
function poolOf(schedule: unknown): PoolGauges | undefined {
  const pool = (schedule as { pool?: Partial<PoolGauges> } | undefined)?.pool;
  if (pool === undefined || typeof pool.threads !== 'number' || typeof pool.busy !== 'number' || typeof pool.queued !== 'number') return undefined;
  return { threads: pool.threads, busy: pool.busy, queued: pool.queued };
}

/**
 * Starts feeding `metrics` from an agent (one per agent run: a SIGHUP reload attaches the same metrics to the new
 * agent, so counters go on). Never rejects; `close()` stops listening and detaches the scrape-time gauges.
 */
export function metricsService(metrics: AgentMetrics): AgentServiceStarter {
  return async (agent, { config }) => {
    const detach = metrics.attach(
      {
        upperLayer: config.layout.upperLayer,
        lowerStoreDir: config.layout.lower.realStoreDir,
        remount: () => agent.status().remount,
        lowerPathCount: () => agent.lowerPathCount(),
        lowerDaemonUp: () => {
          const state = agent.status().lowerDaemon?.state;
          return state === undefined || state === 'starting' ? undefined : state === 'up';
        },
        pool: () => poolOf(agent.status().schedule),
      },
      { version: agentVersion(), storeUrl: config.layout.url },
    );
    const onDrift = metrics.drift.bind(metrics);
    const onFindings = metrics.findings.bind(metrics);
    const onRemount = metrics.remount.bind(metrics);
    agent.on('drift', onDrift);
    agent.on('findings', onFindings);
    agent.on('remount', onRemount);
    return {
      close: async () => {
        agent.off('drift', onDrift);
        agent.off('findings', onFindings);
        agent.off('remount', onRemount);
        detach();
      },
    };
  };
}
