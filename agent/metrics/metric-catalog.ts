/**
 * Every metric overlay-warden exports, declared once: name, type, help, labels and which part produces it. The
 * registry (agent-metrics.ts), the README's metrics table and the golden test of a live `/metrics` all read this list.
 */

/** The Prometheus metric types used. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * Who feeds a metric: `agent` (its events and status, wired here), `schedule` (scheduled audit and scrub) and
 * `alerts` (alert sinks): the last two call the hooks of AgentMetrics from their own branch's services.
 */
export type MetricProducer = 'agent' | 'schedule' | 'alerts';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** Label names; each takes a bounded set of values (ids, kinds, outcomes: never a store path). */
  readonly labels: readonly string[];
  readonly producer: MetricProducer;
  /** Histogram buckets (seconds). */
  readonly buckets?: readonly number[];
}

/** Buckets for quick work (a check, an HTTP answer): 1 ms to 10 s. */
const QUICK_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] as const;
/** Buckets for slow work (a remount, an audit, a scrub task): 10 ms to an hour. */
const SLOW_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] as const;

/** The catalog, keyed by the name code uses. Renaming a metric is a breaking change for dashboards and rules. */
export const METRICS = {
  info: {
    name: 'overlay_warden_info',
    type: 'gauge',
    help: 'Always 1: the agent version and the store URL it supervises',
    labels: ['version', 'store_url'],
    producer: 'agent',
  },
  mountValid: {
    name: 'overlay_warden_mount_valid',
    type: 'gauge',
    help: '1 when the latest mount check found no error, 0 when it found one (absent before the first check)',
    labels: [],
    producer: 'agent',
  },
  checkOk: {
    name: 'overlay_warden_check_ok',
    type: 'gauge',
    help: '1 when the check passed (no error finding, did not throw) in the latest mount check, else 0',
    labels: ['check'],
    producer: 'agent',
  },
  checkDuration: {
    name: 'overlay_warden_check_duration_seconds',
    type: 'histogram',
    help: 'How long each mount check took',
    labels: ['check'],
    producer: 'agent',
    buckets: QUICK_BUCKETS,
  },
  findings: {
    name: 'overlay_warden_findings',
    type: 'gauge',
    help: 'Findings of the latest run of each source (check, audit, scrub), by finding id and severity',
    labels: ['source', 'id', 'severity'],
    producer: 'agent',
  },
  driftEvents: {
    name: 'overlay_warden_drift_events_total',
    type: 'counter',
    help: 'Drift events seen, by type (lower-grew, mount-changed…) and source (startup diff or watch)',
    labels: ['type', 'source'],
    producer: 'agent',
  },
  lowerStorePaths: {
    name: 'overlay_warden_lower_store_paths',
    type: 'gauge',
    help: 'Store paths in the lower store dir, as the agent last listed it',
    labels: [],
    producer: 'agent',
  },
  lowerStoreLastChange: {
    name: 'overlay_warden_lower_store_last_change_timestamp_seconds',
    type: 'gauge',
    help: 'When the lower store dir last changed (its modification time: a path added or removed)',
    labels: [],
    producer: 'agent',
  },
  lowerDaemonUp: {
    name: 'overlay_warden_lower_daemon_up',
    type: 'gauge',
    help: '1 while the nix-daemon serving the lower store answers, 0 while it is unavailable (absent for other lower stores, and before it was first asked)',
    labels: [],
    producer: 'agent',
  },
  upperFreeBytes: {
    name: 'overlay_warden_upper_free_bytes',
    type: 'gauge',
    help: 'Bytes available to unprivileged writers on the upper layer filesystem',
    labels: [],
    producer: 'agent',
  },
  upperSizeBytes: {
    name: 'overlay_warden_upper_size_bytes',
    type: 'gauge',
    help: 'Size of the upper layer filesystem',
    labels: [],
    producer: 'agent',
  },
  upperFreeInodes: {
    name: 'overlay_warden_upper_free_inodes',
    type: 'gauge',
    help: 'Free inodes on the upper layer filesystem (0 total on filesystems without an inode limit)',
    labels: [],
    producer: 'agent',
  },
  upperInodes: {
    name: 'overlay_warden_upper_inodes',
    type: 'gauge',
    help: 'Total inodes of the upper layer filesystem (0 on filesystems without an inode limit)',
    labels: [],
    producer: 'agent',
  },
  staleFlags: {
    name: 'overlay_warden_stale_flags_total',
    type: 'counter',
    help: 'Remount requests (the view may be stale), by source: watcher, probe, lower-grew, nix-hook, manual',
    labels: ['source'],
    producer: 'agent',
  },
  remounts: {
    name: 'overlay_warden_remounts_total',
    type: 'counter',
    help: 'Remount attempts and runs by outcome (remounted, stale-after, failed, gave-up) and reason (the error code; none when it worked)',
    labels: ['outcome', 'reason'],
    producer: 'agent',
  },
  remountDuration: {
    name: 'overlay_warden_remount_duration_seconds',
    type: 'histogram',
    help: 'How long each run of the remount command took, by whether it exited 0',
    labels: ['outcome'],
    producer: 'agent',
    buckets: SLOW_BUCKETS,
  },
  remountNeeded: {
    name: 'overlay_warden_remount_needed',
    type: 'gauge',
    help: '1 while the persisted remount-needed flag is set (a remount is pending, running or failing), else 0',
    labels: [],
    producer: 'agent',
  },
  remountFailing: {
    name: 'overlay_warden_remount_failing',
    type: 'gauge',
    help: '1 while a remount is needed and its latest attempt failed or its run gave up, else 0',
    labels: [],
    producer: 'agent',
  },
  poolThreads: {
    name: 'overlay_warden_pool_threads',
    type: 'gauge',
    help: 'Worker threads of the scheduled work pool',
    labels: [],
    producer: 'schedule',
  },
  poolBusy: {
    name: 'overlay_warden_pool_busy_threads',
    type: 'gauge',
    help: 'Worker threads of the pool running a task',
    labels: [],
    producer: 'schedule',
  },
  poolQueued: {
    name: 'overlay_warden_pool_queued_tasks',
    type: 'gauge',
    help: 'Tasks waiting for a pool thread',
    labels: [],
    producer: 'schedule',
  },
  taskDuration: {
    name: 'overlay_warden_scheduled_task_duration_seconds',
    type: 'histogram',
    help: 'How long each scheduled audit or scrub took',
    labels: ['kind'],
    producer: 'schedule',
    buckets: SLOW_BUCKETS,
  },
  hashedBytes: {
    name: 'overlay_warden_hashed_bytes_total',
    type: 'counter',
    help: 'Bytes of store paths hashed by scheduled verification',
    labels: [],
    producer: 'schedule',
  },
  verifiedPaths: {
    name: 'overlay_warden_verified_paths_total',
    type: 'counter',
    help: 'Store paths verified by scheduled work',
    labels: [],
    producer: 'schedule',
  },
  lastCompleted: {
    name: 'overlay_warden_last_completed_timestamp_seconds',
    type: 'gauge',
    help: 'When the last scheduled audit or scrub completed',
    labels: ['kind'],
    producer: 'schedule',
  },
  alertDeliveries: {
    name: 'overlay_warden_alert_deliveries_total',
    type: 'counter',
    help: 'Alert deliveries to each sink, by outcome (delivered, failed)',
    labels: ['sink', 'outcome'],
    producer: 'alerts',
  },
  httpRequests: {
    name: 'overlay_warden_http_requests_total',
    type: 'counter',
    help: 'HTTP requests answered, by route and status code',
    labels: ['route', 'code'],
    producer: 'agent',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** prom-client's default metrics that the README lists and the golden test expects (a few of many: process and Node.js). */
export const DEFAULT_METRICS: readonly Pick<MetricSpec, 'name' | 'type' | 'help'>[] = [
  { name: 'process_cpu_seconds_total', type: 'counter', help: 'CPU time of the agent process (prom-client default)' },
  { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory of the agent process (prom-client default)' },
  { name: 'process_start_time_seconds', type: 'gauge', help: 'When the agent process started (prom-client default)' },
  { name: 'nodejs_eventloop_lag_seconds', type: 'gauge', help: 'Event loop lag (prom-client default)' },
  { name: 'nodejs_heap_size_used_bytes', type: 'gauge', help: 'V8 heap in use (prom-client default)' },
];

/** Every metric spec, in catalog order. */
export const METRIC_SPECS: readonly MetricSpec[] = Object.values(METRICS);

/** The README's metrics table (Markdown, pure): one row per metric, the defaults last. */
export function metricsTable(): string {
  const rows = [
    '| Metric | Type | Labels | Fed by | Meaning |',
    '| --- | --- | --- | --- | --- |',
    ...METRIC_SPECS.map((m) => `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ') || '–'} | ${m.producer} | ${m.help} |`),
    ...DEFAULT_METRICS.map((m) => `| \`${m.name}\` | ${m.type} | – | process | ${m.help} |`),
  ];
  return `${rows.join('\n')}\n`;
}
