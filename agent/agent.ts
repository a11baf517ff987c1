/**
 * The long-running agent (`overlay-warden run`): the one place that wires the parts together. Data flows one way:
 * observers (mount check, start-up diff, layer and mount watchers, stale probe) → drift events and findings →
 * decisions (decide/) → actions (the remounter, a new baseline, a re-check) and sinks (logs, the control socket).
 */
import { EventEmitter } from 'node:events';
import { baselineFileOf, saveBaseline } from './baseline/index.ts';
import { CheckLog, runMountCheck, type CheckReason, type CheckReport } from './checks/index.ts';
import type { Config } from './config/index.ts';
import { remountHandler, startControlServer, type ControlHandler, type ControlServer } from './control/index.ts';
import {
  decideOnDrift,
  decideOnProbe,
  decideOnWatcherHealth,
  driftLogLine,
  probeLogLine,
  probePathsAfterRemount,
  watcherHealthLogLine,
  type AgentAction,
} from './decide/index.ts';
import { WardenError, messageOf } from './errors/index.ts';
import { writeLogLine, type Logger } from './log/index.ts';
import { probeLayoutOf, probeStaleView } from './probe/index.ts';
import { dedupeHandler } from './repair/index.ts';
import { prepareStateDir } from './state/index.ts';
import { Remounter, remountLogLine, remountRequestLogLine, restoredRemountLogLine, staleViewVerifier, type RemountEvent } from './remount/index.ts';
import {
  DRIFT_EVENT_TYPES,
  LayerWatcher,
  layerWatcherOptionsOf,
  MountWatcher,
  startupDrift,
  type DriftEvent,
  type DriftEventType,
  type WatcherHealthEvent,
} from './watch/index.ts';
import { loadAgentBaseline, saveAgentBaseline } from './agent-baseline.ts';
import { agentControlHandlers } from './agent-control.ts';
import type { AgentEventMap, AgentOptions, AgentService, BaselineAcceptedEvent } from './agent-options.ts';
import type { AgentStatus, AgentStatusSections, FindingsEvent } from './agent-status.ts';

export type { AgentEventMap, AgentOptions, AgentService, AgentServiceStarter, BaselineAcceptedEvent } from './agent-options.ts';
export type { AgentStatus, FindingsEvent };

/** Events kept for `status`. */
const RECENT_EVENTS = 20;

/**
 * A running agent. `Agent.start` checks the mount, diffs the lower store against the baseline, restores a pending
 * remount, starts the control socket and the watchers; `close()` stops all of it (idempotent, bounded).
 */
export class Agent extends EventEmitter<AgentEventMap> {
  readonly #o: AgentOptions;
  readonly #log: Logger;
  readonly #remounter: Remounter;
  readonly #abort = new AbortController();
  readonly #startedAt = new Date().toISOString();
  readonly #driftCounts = Object.fromEntries(DRIFT_EVENT_TYPES.map((t) => [t, 0])) as Record<DriftEventType, number>;
  readonly #recent: DriftEvent[] = [];
  #layers: LayerWatcher | undefined;
  #mount: MountWatcher | undefined;
  #control: ControlServer | undefined;
  #lastCheck: AgentStatus['lastCheck'];
  #closing: Promise<void> | undefined;
  #work: Promise<void> = Promise.resolve();
  #checkTimer: NodeJS.Timeout | undefined;
  readonly #checkLog = new CheckLog();
  readonly #statusSections: (() => AgentStatusSections)[] = [];
  #services: AgentService[] = [];

  private constructor(options: AgentOptions) {
    super();
    this.#o = options;
    this.#log = options.logger;
    const { config, env } = options;
    this.#remounter = new Remounter({
      mergedStoreDir: config.layout.mergedStoreDir,
      stateDir: config.stateDir,
      settings: config.remount,
      // After a remount: the mount check must find no error and the probe no stale path among those that caused it.
      verifyAfterRemount: staleViewVerifier(config, env, { probePaths: probePathsAfterRemount, onReport: (report) => this.#recordCheck(report) }),
    });
    this.#remounter.on('event', (event) => {
      writeLogLine(this.#log, remountLogLine(event));
      this.emit('remount', event);
    });
    this.#remounter.on('error', (error) => this.#logError(error));
  }

  /** Starts an agent. Rejects only when the state dir or the control socket cannot be set up (the caller exits 1). */
  static async start(options: AgentOptions): Promise<Agent> {
    const agent = new Agent(options);
    try {
      for (const start of options.services ?? []) agent.#services.push(await start(agent, options));
      await agent.#start();
    } catch (error) {
      await agent.close();
      throw error;
    }
    return agent;
  }

  async #start(): Promise<void> {
    const { config } = this.#o;
    const signal = this.#abort.signal;
    const { mergedStoreDir, upperLayer, lower } = config.layout;
    this.#log.info('overlay-warden agent starting', { mergedStoreDir, upperLayer, lowerStoreDir: lower.realStoreDir, stateDir: config.stateDir });
    // A state dir that is a file, that others could write or that cannot be written stops the start (exit 1).
    prepareStateDir(config.stateDir);
    await this.#check('start');

    const baseline = loadAgentBaseline(config.stateDir, config.layout.lower.realStoreDir, this.#log);
    // The flag a previous run left is read before this start's drift can flag anything: otherwise its own new
    // requests, already persisted, would be read back as "pending from before" and counted twice.
    const restored = this.#remounter.start();
    if (restored !== undefined) writeLogLine(this.#log, restoredRemountLogLine(restored.flag));

    const drift = await startupDrift(config, baseline, { signal, daemonTimeoutMs: config.watch.daemonTimeoutMs });
    for (const error of drift.errors) this.#logError(error);
    if (drift.firstRun) this.#log.info('no lower-store baseline yet: recorded the lower store as it is now', { paths: drift.current.entries.count });
    else if (drift.events.length === 0) this.#log.info('the lower store is as it was when the agent last ran');
    for (const event of drift.events) this.#onDrift(event);
    saveAgentBaseline(config.stateDir, drift.current, this.#log);

    if (this.#o.control !== false)
      this.#control = await startControlServer({ socketPath: config.control.socket, logger: this.#log, handlers: agentControlHandlers(this, config) });

    this.#layers = new LayerWatcher(layerWatcherOptionsOf(config, drift.current));
    this.#layers.on('drift', (event) => this.#onDrift(event));
    this.#layers.on('health', (event) => this.#onHealth(event));
    this.#layers.on('error', (error) => this.#logError(error));
    this.#mount = new MountWatcher({ mountinfo: config.mountinfo, mergedStoreDir: config.layout.mergedStoreDir, pollMs: config.watch.mountPollMs });
    this.#mount.on('drift', (event) => this.#onDrift(event));
    this.#mount.on('health', (event) => this.#onHealth(event));
    this.#mount.on('error', (error) => this.#logError(error));
    await Promise.all([this.#layers.start(), this.#mount.start()]);
    this.#scheduleCheck();
    this.#log.info('watching the lower store, its DB, the upper layer and the mount', {
      debounceMs: config.watch.debounceMs,
      mountPollMs: config.watch.mountPollMs,
      checkIntervalSeconds: config.checks.intervalSeconds,
    });
  }

  /** A snapshot for `overlay-warden status`. */
  status(): AgentStatus {
    return {
      startedAt: this.#startedAt,
      mergedStoreDir: this.#o.config.layout.mergedStoreDir,
      mountValid: this.#lastCheck !== undefined && this.#lastCheck.errors === 0,
      lastCheck: this.#lastCheck,
      drift: { ...this.#driftCounts },
      lastEvents: [...this.#recent],
      watchers: [...(this.#layers?.health() ?? []), ...(this.#mount === undefined ? [] : [this.#mount.health])],
      remount: this.#remounter.status(),
      lowerDaemon: this.#layers?.daemonStatus(),
      ...Object.assign({}, ...this.#statusSections.map((section) => section())),
    };
  }

  /** The control socket's `remount` action, for the other control channel (HTTP, behind its bearer token). */
  remountControl(): ControlHandler {
    return remountHandler(this.#remounter, this.#o.config.layout.mergedStoreDir);
  }

  /** The control socket's `dedupe` action: dedupe run here, its one remount through this agent's remounter. */
  dedupeControl(): ControlHandler {
    const { layout, pool } = this.#o.config;
    return dedupeHandler(layout, pool.size, () => this.#remounter.request({ source: 'manual', by: 'overlay-warden dedupe' }));
  }

  /** The lower store's path count as the agent last listed it (start-up diff, then the watcher); undefined before. */
  lowerPathCount(): number | undefined {
    return this.#layers?.currentBaseline().entries.count;
  }

  /** Adds sections that the services around the agent (HTTP, metrics, alerts, scheduled work) contribute to `status`. */
  extendStatus(section: () => AgentStatusSections): void {
    this.#statusSections.push(section);
  }

  /**
   * The operator accepts the lower store as it is now: after the actions queued so far, saves the watchers' current
   * view of it as the baseline and emits `baseline` (drift alerts resolve). Resolves with that event; rejects with
   * the StateFileError of a baseline that cannot be saved (nothing is emitted then).
   */
  acceptBaseline(by: string): Promise<BaselineAcceptedEvent> {
    const accepted = this.#work.then(() => {
      if (this.#layers === undefined) throw new WardenError('AGENT_NOT_READY', 'the agent is still starting', { hint: 'try again in a moment' });
      const baseline = this.#layers.currentBaseline();
      saveBaseline(baselineFileOf(this.#o.config.stateDir), baseline);
      const event: BaselineAcceptedEvent = { type: 'baseline-accepted', at: new Date().toISOString(), by, paths: baseline.entries.count };
      this.#log.info('the operator accepted the lower store as the new baseline', { by, paths: event.paths });
      this.emit('baseline', event);
      return event;
    });
    this.#work = accepted.then(
      () => undefined,
      () => undefined,
    );
    return accepted;
  }

  /** Resolves when every action started so far is done (tests, and a clean stop). */
  settled(): Promise<void> {
    return this.#work;
  }

  /** Stops watchers, cancels running work, closes the socket; resolves within about `graceMs`. Idempotent. */
  close(graceMs = 4000): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort(new Error('agent stopping'));
      clearTimeout(this.#checkTimer);
      await Promise.allSettled(this.#services.map((service) => service.close()));
      const steps = [this.#layers?.close(), this.#mount?.close(), this.#control?.close(graceMs / 2), this.#remounter.close(graceMs / 2)];
      await Promise.allSettled(steps.filter((step) => step !== undefined));
      this.#log.info('overlay-warden agent stopped');
    })();
    return this.#closing;
  }

  #onDrift(event: DriftEvent): void {
    this.#driftCounts[event.type]++;
    this.#recent.push(event);
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
    writeLogLine(this.#log, driftLogLine(event));
    for (const action of decideOnDrift(event, this.#o.config.layout)) this.#enqueue(action);
    this.emit('drift', event);
  }

  #onHealth(event: WatcherHealthEvent): void {
    writeLogLine(this.#log, watcherHealthLogLine(event));
    for (const action of decideOnWatcherHealth(event)) this.#enqueue(action);
    this.emit('health', event);
  }

  /** Runs actions one after another, so a re-check or a baseline save never races another. */
  #enqueue(action: AgentAction, logRequest = true): void {
    if (action.kind === 'remount') {
      // Requests go straight in: the remounter coalesces and serialises them itself.
      if (logRequest) writeLogLine(this.#log, remountRequestLogLine(action.request));
      void this.#remounter.request(action.request);
      return;
    }
    this.#work = this.#work
      .then(() => this.#act(action))
      .catch((error: unknown) => {
        if (!this.#abort.signal.aborted) this.#log.error(`agent action ${action.kind} failed: ${messageOf(error)}`, { code: (error as WardenError).code });
      });
  }

  /** The next mount check (what no watcher sees: a filling upper layer), queued `checks.intervalSeconds` after the last ended. */
  #scheduleCheck(): void {
    if (this.#abort.signal.aborted) return;
    // A check rejects only when the agent stops (runMountCheck's contract), and then none is scheduled again.
    const queue = (): void => void (this.#work = this.#work.then(() => this.#check('scheduled').then(() => this.#scheduleCheck())).catch(() => undefined));
    this.#checkTimer = setTimeout(queue, this.#o.config.checks.intervalSeconds * 1000);
  }

  async #act(action: Exclude<AgentAction, { kind: 'remount' }>): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const { config } = this.#o;
    switch (action.kind) {
      case 'probe': {
        const report = await probeStaleView(probeLayoutOf(config.layout), action.paths, { signal: this.#abort.signal });
        const line = probeLogLine(report);
        if (line !== undefined) writeLogLine(this.#log, line);
        // That one line says a remount was requested: not one more per stale path.
        for (const next of decideOnProbe(report, config.layout.storeDir)) this.#enqueue(next, false);
        return;
      }
      case 'recheck-mount':
        await this.#check('mount changed');
        return;
      case 'refresh-baseline':
        if (this.#layers !== undefined) saveAgentBaseline(config.stateDir, this.#layers.currentBaseline(), this.#log);
        return;
    }
  }

  async #check(why: CheckReason): Promise<CheckReport> {
    const report = await runMountCheck(this.#o.config, this.#o.env, this.#abort.signal);
    this.#recordCheck(report);
    for (const line of this.#checkLog.linesFor(report.findings, why)) writeLogLine(this.#log, line);
    return report;
  }

  /** Keeps a mount check's result for `status` (whichever check ran last: start, mount change, after a remount). */
  #recordCheck(report: CheckReport): void {
    const errors = report.findings.filter((f) => f.severity === 'error').length;
    const warnings = report.findings.filter((f) => f.severity === 'warning').length;
    this.#lastCheck = { at: new Date().toISOString(), errors, warnings, findings: report.findings };
    this.emit('findings', { source: 'check', at: this.#lastCheck.at, findings: report.findings, checks: report.checks });
  }

  /** An error the parts report as a value (they keep going): its message, code and evidence. */
  #logError(error: WardenError): void {
    this.#log.error(error.message, { code: error.code, ...error.evidence });
  }
}
