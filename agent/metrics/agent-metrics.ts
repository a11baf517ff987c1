/**
 * The agent's metrics (prom-client), one set per process: counters survive a SIGHUP reload, which starts the agent
 * anew but keeps this object. Events update counters; gauges of current state are read from the agent at scrape time.
 */
import { statfsSync, statSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { FindingsEvent } from '../agent-status.ts';
import type { CheckOutcome } from '../checks/index.ts';
import type { Finding } from '../findings/index.ts';
import { isRemountFailing, type RemountEvent, type RemounterStatus } from '../remount/index.ts';
import type { DriftEvent } from '../watch/index.ts';
import { METRICS, type MetricKey, type MetricSpec } from './metric-catalog.ts';

/** The scheduled work pool as the schedule service's status section reports it. */
export interface PoolGauges {
  readonly threads: number;
  readonly busy: number;
  readonly queued: number;
}

/** What the agent offers for gauges read at scrape time (a running Agent adapted by metrics-service.ts). */
export interface MetricsSource {
  readonly upperLayer: string;
  readonly lowerStoreDir: string;
  remount(): Pick<RemounterStatus, 'pending'>;
  /** The lower store's path count as last listed; undefined before the agent listed it. */
  lowerPathCount(): number | undefined;
  /** Whether the lower nix-daemon answers; undefined when the lower store is no daemon or it was not asked yet. */
  lowerDaemonUp(): boolean | undefined;
  /** The schedule service's pool, when it reports one. */
  pool(): PoolGauges | undefined;
}

type WorkKind = 'audit' | 'scrub';

/** Findings counted per (id, severity) (pure). */
export function countFindings(findings: readonly Finding[]): Map<string, { id: string; severity: string; count: number }> {
  const counts = new Map<string, { id: string; severity: string; count: number }>();
  for (const f of findings) {
    const key = `${f.id}\0${f.severity}`;
    const entry = counts.get(key) ?? { id: f.id, severity: f.severity, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return counts;
}

/** The per-process metrics: a Registry holding every metric of the catalog and prom-client's default ones. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly #metrics = new Map<MetricKey, Metric>();
  #source: MetricsSource | undefined;
  readonly #findings = new Map<FindingsEvent['source'], readonly Finding[]>();
  #checks: readonly CheckOutcome[] | undefined;
  #mountValid: boolean | undefined;
  #info: { version: string; storeUrl: string } | undefined;

  constructor() {
    // The event loop sampled every 100 ms, not prom-client's 10 ms: a lag worth reporting is far longer, and an
    // idle agent should not wake 100 times a second for it.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    const self = this;
    const collectors: Partial<Record<MetricKey, (this: Gauge) => void>> = {
      info() {
        this.reset();
        if (self.#info !== undefined) this.set({ version: self.#info.version, store_url: self.#info.storeUrl }, 1);
      },
      mountValid() {
        this.reset();
        if (self.#mountValid !== undefined) this.set(self.#mountValid ? 1 : 0);
      },
      checkOk() {
        this.reset();
        for (const c of self.#checks ?? []) this.set({ check: c.id }, c.ok ? 1 : 0);
      },
      findings() {
        this.reset();
        for (const [source, findings] of self.#findings)
          for (const { id, severity, count } of countFindings(findings).values()) this.set({ source, id, severity }, count);
      },
      lowerStorePaths() {
        this.reset();
        const count = self.#source?.lowerPathCount();
        if (count !== undefined) this.set(count);
      },
      lowerStoreLastChange() {
        this.reset();
        const stat = self.#source === undefined ? undefined : statSync(self.#source.lowerStoreDir, { throwIfNoEntry: false });
        if (stat !== undefined) this.set(stat.mtimeMs / 1000);
      },
      lowerDaemonUp() {
        this.reset();
        const up = self.#source?.lowerDaemonUp();
        if (up !== undefined) this.set(up ? 1 : 0);
      },
      upperFreeBytes() {
        self.#setStatfs(this, (s) => s.bavail * s.bsize);
      },
      upperSizeBytes() {
        self.#setStatfs(this, (s) => s.blocks * s.bsize);
      },
      upperFreeInodes() {
        self.#setStatfs(this, (s) => s.ffree);
      },
      upperInodes() {
        self.#setStatfs(this, (s) => s.files);
      },
      remountNeeded() {
        this.reset();
        const remount = self.#source?.remount();
        if (remount !== undefined) this.set(remount.pending === undefined ? 0 : 1);
      },
      remountFailing() {
        this.reset();
        const remount = self.#source?.remount();
        if (remount !== undefined) this.set(isRemountFailing(remount) ? 1 : 0);
      },
      poolThreads() {
        self.#setPool(this, 'threads');
      },
      poolBusy() {
        self.#setPool(this, 'busy');
      },
      poolQueued() {
        self.#setPool(this, 'queued');
      },
    };
    for (const [key, spec] of Object.entries(METRICS) as [MetricKey, MetricSpec][]) {
      const common = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [this.registry] };
      const collect = collectors[key];
      const metric =
        spec.type === 'counter'
          ? new Counter(common)
          : spec.type === 'histogram'
            ? new Histogram({ ...common, buckets: [...(spec.buckets ?? [])] })
            : new Gauge({ ...common, ...(collect === undefined ? {} : { collect }) });
      this.#metrics.set(key, metric);
    }
  }

  /** The `/metrics` text (Prometheus exposition format) and its content type. */
  async exposition(): Promise<{ readonly contentType: string; readonly text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Points the scrape-time gauges at a running agent and sets the info labels; `detach()` forgets it (gauges go absent). */
  attach(source: MetricsSource, info: { readonly version: string; readonly storeUrl: string }): () => void {
    this.#source = source;
    this.#info = info;
    return () => {
      if (this.#source === source) this.#source = undefined;
    };
  }

  /** A drift event: counted by type and source. */
  drift(event: DriftEvent): void {
    this.#counter('driftEvents').inc({ type: event.type, source: event.source });
  }

  /** A complete set of findings from one source; a mount check's also carries each check's outcome and duration. */
  findings(event: FindingsEvent): void {
    this.#findings.set(event.source, event.findings);
    if (event.source !== 'check') return;
    this.#mountValid = !event.findings.some((f) => f.severity === 'error');
    if (event.checks === undefined) return;
    this.#checks = event.checks;
    const histogram = this.#histogram('checkDuration');
    for (const c of event.checks) histogram.observe({ check: c.id }, c.durationMs / 1000);
  }

  /** A remount event: requests counted by source, each attempt's duration, each run's outcome. */
  remount(event: RemountEvent): void {
    switch (event.type) {
      case 'remount-requested':
        this.#counter('staleFlags').inc({ source: event.request.source });
        return;
      case 'remount-succeeded':
        this.#histogram('remountDuration').observe({ outcome: 'exited-0' }, event.report.durationMs / 1000);
        return;
      case 'remount-failed':
        this.#counter('remounts').inc({ outcome: 'failed', reason: event.error.code });
        if (event.report !== undefined) this.#histogram('remountDuration').observe({ outcome: 'failed' }, event.report.durationMs / 1000);
        return;
      case 'remount-verified':
        this.#counter('remounts').inc({ outcome: event.fresh ? 'remounted' : 'stale-after', reason: 'none' });
        return;
      case 'remount-gave-up':
        this.#counter('remounts').inc({ outcome: 'gave-up', reason: event.error.code });
        return;
      default:
        return;
    }
  }

  /** Hook for the schedule service: one audit or scrub task took `seconds`. */
  scheduleTaskDone(kind: WorkKind, seconds: number): void {
    this.#histogram('taskDuration').observe({ kind }, seconds);
  }

  /** Hook for the schedule service: `bytes` more hashed. */
  bytesHashed(bytes: number): void {
    this.#counter('hashedBytes').inc(bytes);
  }

  /** Hook for the schedule service: `count` more paths verified. */
  pathsVerified(count: number): void {
    this.#counter('verifiedPaths').inc(count);
  }

  /** Hook for the schedule service: an audit or scrub completed at `at`. */
  workCompleted(kind: WorkKind, at: Date): void {
    this.#gauge('lastCompleted').set({ kind }, at.getTime() / 1000);
  }

  /**
   * The hooks above shaped as the schedule service's observer (`scheduleService(metrics.scheduleObserver())`):
   * taskDone, bytesHashed, pathsVerified, completed.
   */
  scheduleObserver(): {
    taskDone(kind: WorkKind, seconds: number): void;
    bytesHashed(bytes: number): void;
    pathsVerified(count: number): void;
    completed(kind: WorkKind, at: Date): void;
  } {
    return {
      taskDone: (kind, seconds) => this.scheduleTaskDone(kind, seconds),
      bytesHashed: (bytes) => this.bytesHashed(bytes),
      pathsVerified: (count) => this.pathsVerified(count),
      completed: (kind, at) => this.workCompleted(kind, at),
    };
  }

  /** Hook for the alerts service: one delivery to `sink` (a sink's name, from configuration: bounded) ended so. */
  alertDelivery(sink: string, outcome: 'delivered' | 'failed'): void {
    this.#counter('alertDeliveries').inc({ sink, outcome });
  }

  /** The HTTP server answered `route` (a fixed route name, or `other`) with `code`. */
  httpRequest(route: string, code: number): void {
    this.#counter('httpRequests').inc({ route, code: String(code) });
  }

  #setStatfs(gauge: Gauge, value: (s: { bavail: number; bsize: number; blocks: number; ffree: number; files: number }) => number): void {
    gauge.reset();
    if (this.#source === undefined) return;
    try {
      gauge.set(value(statfsSync(this.#source.upperLayer)));
    } catch {
      // The upper layer gone: the gauge is absent (the mount check and the watcher report why).
    }
  }

  #setPool(gauge: Gauge, field: keyof PoolGauges): void {
    gauge.reset();
    const pool = this.#source?.pool();
    if (pool !== undefined && typeof pool[field] === 'number') gauge.set(pool[field]);
  }

  #counter(key: MetricKey): Counter {
    return this.#metrics.get(key) as Counter;
  }

  #gauge(key: MetricKey): Gauge {
    return this.#metrics.get(key) as Gauge;
  }

  #histogram(key: MetricKey): Histogram {
    return this.#metrics.get(key) as Histogram;
  }
}
