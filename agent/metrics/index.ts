/** Prometheus metrics: the catalog of every metric, the per-process registry, and the service feeding it from the agent. */
export {
  METRICS,
  METRIC_SPECS,
  DEFAULT_METRICS,
  metricsTable,
  type MetricSpec,
  type MetricType,
  type MetricKey,
  type MetricProducer,
} from './metric-catalog.ts';
export { AgentMetrics, countFindings, type MetricsSource, type PoolGauges } from './agent-metrics.ts';
export { metricsService } from './metrics-service.ts';
export { agentVersion } from './agent-version.ts';
