/**
 * The alerts service around the agent: turns its events into alert conditions, runs the lifecycle over them, keeps
 * the state in the state dir, and delivers to every configured sink; its section `alerts` of `status` shows the
 * firing alerts and each sink's health (never a secret).
 */
import type { AgentService, AgentServiceStarter } from '../agent-options.ts';
import { readSecretFile, WEBHOOK_SECRET, type Config } from '../config/index.ts';
import { WardenError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import {
  conditionsOfDrift,
  conditionsOfFindings,
  conditionsOfHealth,
  conditionsOfRemount,
  conditionsOfSink,
  DRIFT_SCOPE,
  type ConditionUpdate,
} from './alert-conditions.ts';
import {
  applyUpdate,
  dueFor,
  EMPTY_ALERT_STATE,
  expireScope,
  firingAlerts,
  markDelivered,
  prune,
  resolveScope,
  type AlertState,
  type LifecycleContext,
  type LifecycleStep,
} from './alert-lifecycle.ts';
import { redactUrl } from './alert-errors.ts';
import { alertmanagerSink, commandSink, webhookSink, type AlertSink } from './alert-sinks.ts';
import { alertStateFileOf, loadAlertState, saveAlertState } from './alert-state-file.ts';
import { SinkDelivery, type SinkStatus } from './sink-delivery.ts';

/** Options of the alerts service (the metrics branch counts deliveries through `onDelivery`). */
export interface AlertsServiceOptions {
  onDelivery?(sink: string, outcome: 'delivered' | 'failed'): void;
  /** The clock (tests). */
  readonly now?: () => Date;
}

/** The `alerts` section of `status`. */
export interface AlertsStatus {
  readonly firing: readonly {
    readonly alertname: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly startsAt: string;
    readonly summary: string;
  }[];
  readonly sinks: readonly SinkStatus[];
  readonly resendSeconds: number;
  readonly driftHoldSeconds: number;
}

/** Resolved alerts not delivered to every sink are kept this long at most. */
const RESOLVED_RETAIN_MS = 24 * 3600_000;

/** Where the runbook anchors point: the README beside the package, as the Prometheus rules' runbook annotations do. */
const RUNBOOK_BASE = 'README.md';

/**
 * The sinks the configuration names, in order: `alertmanager#N` per URL, `webhook#N`, `command#N`. Reads each webhook
 * secret file (throws ConfigError as readSecretFile does: the agent then does not start).
 */
export function sinksOf(alerts: Config['alerts']): AlertSink[] {
  const timeoutMs = alerts.timeoutSeconds * 1000;
  return [
    ...alerts.alertmanager.urls.map((url, i) => alertmanagerSink(`alertmanager#${i + 1}`, url, timeoutMs)),
    ...alerts.webhooks.map((hook, i) =>
      webhookSink(`webhook#${i + 1}`, hook.url, hook.secretFile === undefined ? undefined : readSecretFile(hook.secretFile, WEBHOOK_SECRET), timeoutMs),
    ),
    ...alerts.commands.map((command, i) => commandSink(`command#${i + 1}`, command.command, command.timeoutSeconds * 1000)),
  ];
}

/** The URL alerts link to: alerts.generatorURL, else `/status` on http.address, else none (HTTP off). */
export function generatorUrlOf(config: Pick<Config, 'alerts' | 'http'>): string | undefined {
  if (config.alerts.generatorURL !== undefined) return config.alerts.generatorURL;
  const address = config.http.address;
  return address === 'off' ? undefined : `http://${address}/status`;
}

/** The alerts service starter for `agentServices()`. */
export function alertsService(options: AlertsServiceOptions = {}): AgentServiceStarter {
  return async (agent, { config, logger }) => {
    const service = new AlertsService(config, logger, options);
    agent.on('drift', (event) => service.update([conditionsOfDrift(event)]));
    agent.on('findings', (event) => service.update([conditionsOfFindings(event)]));
    agent.on('health', (event) => service.update([conditionsOfHealth(event)]));
    agent.on('remount', (event) => service.update(conditionsOfRemount(event)));
    agent.on('baseline', (event) => service.step(resolveScope(service.state, DRIFT_SCOPE, new Date(event.at))));
    agent.extendStatus(() => ({ alerts: service.status() }));
    service.start();
    return service;
  };
}

class AlertsService implements AgentService {
  state: AlertState;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #o: AlertsServiceOptions;
  readonly #file: string;
  readonly #context: LifecycleContext;
  readonly #deliveries: SinkDelivery[];
  readonly #now: () => Date;
  readonly #resendMs: number;
  readonly #generatorURL: string | undefined;
  /** Sinks whose OverlayWardenSinkFailing is firing. */
  readonly #failingSinks = new Set<string>();
  #tick: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(config: Config, logger: Logger, options: AlertsServiceOptions) {
    this.#config = config;
    this.#log = logger;
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#file = alertStateFileOf(config.stateDir);
    this.#resendMs = config.alerts.resendSeconds * 1000;
    this.#generatorURL = generatorUrlOf(config);
    this.#context = { staticLabels: { ...config.alerts.labels, store: config.layout.mergedStoreDir }, runbookBase: RUNBOOK_BASE };
    this.state = this.#load();
    const settings = config.alerts;
    this.#deliveries = sinksOf(settings).map(
      (sink) =>
        new SinkDelivery({
          sink,
          maxBatch: settings.maxBatch,
          backoffMs: settings.backoffSeconds * 1000,
          maxBackoffMs: settings.maxBackoffSeconds * 1000,
          now: this.#now,
          due: (now) => dueFor(this.state, sink.name, now, this.#resendMs),
          context: (now) => ({ now, resendMs: this.#resendMs, generatorURL: this.#generatorURL }),
          delivered: (batch, now) => this.#delivered(sink.name, batch, now),
          failed: (error, consecutive, retryInMs) => this.#failed(sink, error, consecutive, retryInMs),
        }),
    );
  }

  /** A state that cannot be read is logged and replaced by an empty one (the file stays until the next save). */
  #load(): AlertState {
    try {
      return loadAlertState(this.#file);
    } catch (error) {
      const e = error as WardenError;
      this.#log.error(`${e.message}; alerts start afresh`, { code: e.code, hint: e.hint });
      return EMPTY_ALERT_STATE;
    }
  }

  start(): void {
    const firing = firingAlerts(this.state);
    if (firing.length > 0) this.#log.info('alerts still firing from before the restart', { alerts: firing.map((a) => a.name) });
    this.#log.info('alert sinks', {
      sinks: this.#deliveries.map((d) => d.status()).map((s) => `${s.name} ${s.target}`),
      resendSeconds: this.#config.alerts.resendSeconds,
    });
    // Re-sends, the drift hold time and retries of what a previous run did not deliver.
    const every = Math.max(250, Math.min(this.#resendMs / 4, 5000));
    this.#tick = setInterval(() => this.#onTick(), every);
    this.#tick.unref();
    this.#kick();
  }

  #onTick(): void {
    const hold = this.#config.alerts.driftHoldSeconds;
    if (hold > 0) this.step(expireScope(this.state, DRIFT_SCOPE, hold * 1000, this.#now()));
    this.#kick();
  }

  /** Applies condition updates (undefined: the event raises none). */
  update(updates: readonly (ConditionUpdate | undefined)[]): void {
    for (const update of updates) {
      if (update === undefined) continue;
      const step = applyUpdate(this.state, update, this.#now(), this.#context);
      this.step(step, update.conditions.length > 0);
    }
  }

  /** Takes a lifecycle step: logs what fired or resolved, persists, delivers. */
  step(step: LifecycleStep, persist = false): void {
    this.state = step.state;
    for (const change of step.changes) {
      const { alert } = change;
      const fields = { alertname: alert.name, labels: alert.labels, summary: alert.annotations.summary };
      if (change.kind === 'fired') this.#log.warn(`alert firing: ${alert.name}: ${alert.annotations.summary}`, fields);
      else this.#log.info(`alert resolved: ${alert.name}`, fields);
    }
    if (step.changes.length > 0 || persist) this.#save();
    if (step.changes.length > 0) this.#kick();
  }

  #kick(): void {
    for (const delivery of this.#deliveries) delivery.kick();
  }

  #save(): void {
    try {
      saveAlertState(this.#file, this.state);
    } catch (error) {
      const e = error as WardenError;
      this.#log.error(e.message, { code: e.code, hint: e.hint });
    }
  }

  #delivered(sink: string, batch: readonly { fingerprint: string; version: number }[], now: Date): void {
    const wasFailing = this.#failingSinks.has(sink);
    this.state = prune(
      markDelivered(this.state, sink, batch, now),
      this.#deliveries.map((d) => d.name),
      now,
      RESOLVED_RETAIN_MS,
    );
    this.#save();
    this.#o.onDelivery?.(sink, 'delivered');
    this.#log.debug('alerts delivered', { sink, alerts: batch.length });
    if (wasFailing) {
      this.#failingSinks.delete(sink);
      this.#log.info(`alert sink ${sink} delivers again`, { sink });
      this.update([conditionsOfSink(sink, false, 0, undefined)]);
    }
  }

  #failed(sink: AlertSink, error: WardenError, consecutive: number, retryInMs: number): void {
    this.#o.onDelivery?.(sink.name, 'failed');
    this.#log.warn(`alert delivery to ${sink.name} failed: ${error.message}; retrying in ${retryInMs} ms`, {
      code: error.code,
      sink: sink.name,
      target: sink.target,
      consecutiveFailures: consecutive,
      retryInMs,
    });
    if (consecutive >= this.#config.alerts.sinkFailingAfter && !this.#failingSinks.has(sink.name)) {
      this.#failingSinks.add(sink.name);
      this.update([conditionsOfSink(sink.name, true, consecutive, `${error.code}: ${error.message}`)]);
    }
  }

  status(): AlertsStatus {
    return {
      firing: firingAlerts(this.state).map((a) => ({ alertname: a.name, labels: a.labels, startsAt: a.startsAt, summary: a.annotations.summary })),
      sinks: this.#deliveries.map((d) => d.status()),
      resendSeconds: this.#config.alerts.resendSeconds,
      driftHoldSeconds: this.#config.alerts.driftHoldSeconds,
    };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#tick);
      await Promise.allSettled(this.#deliveries.map((d) => d.close()));
      this.#save();
    })();
    return this.#closed;
  }
}
