/**
 * The long-running agent (`overlay-warden run`): the one place that wires the parts together. Data flows one way:
 * observers (mount check, start-up diff, layer and mount watchers, stale probe) → drift events and findings →
 * decisions (decide/) → actions (the remounter, a new baseline, a re-check) and sinks (logs, the control socket).
 */
import { EventEmitter } from 'node:events';
import { baselineFileOf, loadBaseline, saveBaseline, type LowerBaseline } from './baseline/index.ts';
import { runMountCheck, type CheckReport } from './checks/index.ts';
import type { Config } from './config/index.ts';
import { remountHandler, startControlServer, type ControlServer } from './control/index.ts';
import { decideOnDrift, decideOnProbe, describeDrift, eventLevel, type AgentAction } from './decide/index.ts';
import { WardenError, messageOf } from './errors/index.ts';
import { hasErrors, type Finding } from './findings/index.ts';
import type { Logger } from './log/index.ts';
import { probeLayoutOf, probeStaleView } from './probe/index.ts';
import { describeRemountRequest, Remounter, type RemountEvent, type RemountRequest, type RemountVerifier } from './remount/index.ts';
import { DRIFT_EVENT_TYPES, LayerWatcher, layerWatcherOptionsOf, MountWatcher, startupDrift, type DriftEvent, type DriftEventType } from './watch/index.ts';

export interface AgentOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** The environment Nix defaults come from (NIX_STORE_DIR…). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Start the control socket (default true; tests of the agent core may turn it off). */
  readonly control?: boolean;
}

/** What `status` answers, over the control socket and (later) HTTP. */
export interface AgentStatus {
  readonly startedAt: string;
  readonly mergedStoreDir: string;
  readonly mountValid: boolean;
  readonly lastCheck: { readonly at: string; readonly errors: number; readonly warnings: number; readonly findings: readonly Finding[] } | undefined;
  readonly drift: Readonly<Record<DriftEventType, number>>;
  readonly lastEvents: readonly DriftEvent[];
  readonly remount: ReturnType<Remounter['status']>;
}

/** What the agent emits, for the demo, tests and (later) alert sinks: every drift event and every remount event. */
export interface AgentEventMap {
  drift: [DriftEvent];
  remount: [RemountEvent];
}

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

  private constructor(options: AgentOptions) {
    super();
    this.#o = options;
    this.#log = options.logger;
    const { config } = options;
    this.#remounter = new Remounter({
      mergedStoreDir: config.layout.mergedStoreDir,
      stateDir: config.stateDir,
      settings: config.remount,
      verifyAfterRemount: this.#verifier(),
    });
    this.#remounter.on('event', (event) => this.#onRemountEvent(event));
    this.#remounter.on('error', (error) => this.#log.error(error.message, { code: error.code, ...error.evidence }));
  }

  /** Starts an agent. Rejects only when the state dir or the control socket cannot be set up (the caller exits 1). */
  static async start(options: AgentOptions): Promise<Agent> {
    const agent = new Agent(options);
    try {
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
    this.#log.info('overlay-warden agent starting', { mergedStoreDir: config.layout.mergedStoreDir, upperLayer: config.layout.upperLayer, lowerStoreDir: config.layout.lower.realStoreDir, stateDir: config.stateDir });
    await this.#check('start');

    const baselineFile = baselineFileOf(config.stateDir);
    let baseline: LowerBaseline | undefined;
    try {
      baseline = loadBaseline(baselineFile, config.layout.lower.realStoreDir);
    } catch (error) {
      if (!(error instanceof WardenError)) throw error;
      this.#log.error(`${error.message}; starting afresh with a new baseline`, { code: error.code, hint: error.hint });
    }
    // The flag a previous run left is read before this start's drift can flag anything: otherwise its own new
    // requests, already persisted, would be read back as "pending from before" and counted twice.
    const restored = this.#remounter.start();
    if (restored !== undefined) this.#log.warn('a remount flagged before the last stop is still pending: remounting', { since: restored.flag.firstFlaggedAt, requests: restored.flag.requests, reasons: restored.flag.reasons.length });

    const drift = await startupDrift(config, baseline, { signal });
    for (const error of drift.errors) this.#log.error(error.message, { code: error.code, ...error.evidence });
    if (drift.firstRun) this.#log.info('no lower-store baseline yet: recorded the lower store as it is now', { paths: drift.current.entries.count });
    else if (drift.events.length === 0) this.#log.info('the lower store is as it was when the agent last ran');
    for (const event of drift.events) this.#onDrift(event);
    this.#saveBaseline(drift.current);

    if (this.#o.control !== false) {
      this.#control = await startControlServer({
        socketPath: config.control.socket,
        logger: this.#log,
        handlers: {
          remount: remountHandler(this.#remounter, config.layout.mergedStoreDir),
          status: () => this.status(),
        },
      });
    }

    this.#layers = new LayerWatcher(layerWatcherOptionsOf(config, drift.current));
    this.#layers.on('drift', (event) => this.#onDrift(event));
    this.#layers.on('error', (error) => this.#log.error(error.message, { code: error.code, ...error.evidence }));
    this.#mount = new MountWatcher({ mountinfo: config.mountinfo, mergedStoreDir: config.layout.mergedStoreDir, pollMs: config.watch.mountPollMs });
    this.#mount.on('drift', (event) => this.#onDrift(event));
    this.#mount.on('error', (error) => this.#log.error(error.message, { code: error.code, ...error.evidence }));
    await Promise.all([this.#layers.start(), this.#mount.start()]);
    this.#log.info('watching the lower store, its DB, the upper layer and the mount', { debounceMs: config.watch.debounceMs, mountPollMs: config.watch.mountPollMs });
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
      remount: this.#remounter.status(),
    };
  }

  /** Resolves when every action started so far is done (tests, and a clean stop). */
  settled(): Promise<void> {
    return this.#work;
  }

  /** Stops watchers, cancels running work, closes the socket; resolves within about `graceMs`. Idempotent. */
  close(graceMs = 4000): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort(new Error('agent stopping'));
      const steps = [this.#layers?.close(), this.#mount?.close(), this.#control?.close(graceMs / 2), this.#remounter.close(graceMs / 2)];
      await Promise.allSettled(steps);
      this.#log.info('overlay-warden agent stopped');
    })();
    return this.#closing;
  }

  #onDrift(event: DriftEvent): void {
    this.#driftCounts[event.type]++;
    this.#recent.push(event);
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
    this.#log[eventLevel(event)](describeDrift(event), { event: event.type, ...summariseEvent(event) });
    for (const action of decideOnDrift(event, this.#o.config.layout)) this.#enqueue(action);
    this.emit('drift', event);
  }

  /** Runs actions one after another, so a re-check or a baseline save never races another. */
  #enqueue(action: AgentAction): void {
    if (action.kind === 'remount') {
      // Requests go straight in: the remounter coalesces and serialises them itself.
      this.#log.info(`remount requested: ${describeRemountRequest(action.request)}`);
      void this.#remounter.request(action.request);
      return;
    }
    this.#work = this.#work.then(() => this.#act(action)).catch((error: unknown) => {
      if (!this.#abort.signal.aborted) this.#log.error(`agent action ${action.kind} failed: ${messageOf(error)}`, { code: (error as WardenError).code });
    });
  }

  async #act(action: Exclude<AgentAction, { kind: 'remount' }>): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const { config } = this.#o;
    switch (action.kind) {
      case 'probe': {
        const report = await probeStaleView(probeLayoutOf(config.layout), action.paths, { signal: this.#abort.signal });
        for (const result of report.stale) this.#log.warn(`stale view confirmed by the probe at ${result.name}`, { verdict: result.verdict });
        for (const next of decideOnProbe(report, config.layout.storeDir)) this.#enqueue(next);
        return;
      }
      case 'recheck-mount':
        await this.#check('mount changed');
        return;
      case 'refresh-baseline':
        if (this.#layers !== undefined) this.#saveBaseline(this.#layers.currentBaseline());
        return;
    }
  }

  #saveBaseline(baseline: LowerBaseline): void {
    try {
      saveBaseline(baselineFileOf(this.#o.config.stateDir), baseline);
    } catch (error) {
      const e = error as WardenError;
      this.#log.error(e.message, { code: e.code, hint: e.hint });
    }
  }

  async #check(why: string): Promise<CheckReport> {
    const report = await runMountCheck(this.#o.config, this.#o.env, this.#abort.signal);
    const { errors, warnings } = this.#recordCheck(report);
    for (const f of report.findings) this.#log[f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warn' : 'info'](`${f.id}: ${f.message}`, { finding: f.id, ...(f.hint === undefined ? {} : { hint: f.hint }) });
    this.#log.info(`mount check (${why}): ${hasErrors(report.findings) ? 'errors found' : 'mount valid'}`, { errors, warnings });
    return report;
  }

  /** Keeps a mount check's result for `status` (whichever check ran last: start, mount change, after a remount). */
  #recordCheck(report: CheckReport): { errors: number; warnings: number } {
    const errors = report.findings.filter((f) => f.severity === 'error').length;
    const warnings = report.findings.filter((f) => f.severity === 'warning').length;
    this.#lastCheck = { at: new Date().toISOString(), errors, warnings, findings: report.findings };
    return { errors, warnings };
  }

  /** After a remount: the mount check must find no error and the probe no stale path among those that caused it. */
  #verifier(): RemountVerifier {
    return async (signal) => {
      const report = await runMountCheck(this.#o.config, this.#o.env, signal);
      this.#recordCheck(report);
      const paths = this.#remounter.status().pending?.reasons.flatMap((r) => pathsOfRequest(r.request)) ?? [];
      const probe = await probeStaleView(probeLayoutOf(this.#o.config.layout), paths, { signal });
      const probeFindings: Finding[] = probe.stale.map((r) => ({ id: 'check.failed', severity: 'error', message: `still stale after the remount: ${r.name}`, evidence: { verdict: r.verdict } }));
      return { fresh: !hasErrors(report.findings) && probe.stale.length === 0, findings: [...report.findings, ...probeFindings] };
    };
  }

  #onRemountEvent(event: RemountEvent): void {
    const log = this.#log;
    switch (event.type) {
      case 'remount-requested':
        log.debug(`remount ${event.coalesced ? 'request joined the scheduled run' : 'scheduled'}: ${describeRemountRequest(event.request)}`, { remount: event.type, ticket: event.ticket, coalesced: event.coalesced });
        break;
      case 'remount-started':
        log.info(`remount run ${event.run}, attempt ${event.attempt}: ${event.argv.join(' ')} (answers ${event.requests} request${event.requests === 1 ? '' : 's'})`, { remount: event.type, run: event.run, attempt: event.attempt, requests: event.requests });
        break;
      case 'remount-succeeded':
        log.info(`remount command exited 0 in ${event.report.durationMs} ms; checking the view`, { remount: event.type, run: event.run, attempt: event.attempt });
        break;
      case 'remount-failed':
        log.error(`remount attempt ${event.attempt} failed: ${event.error.message}${event.retryInMs === undefined ? '' : `; retrying in ${event.retryInMs} ms`}`, { remount: event.type, run: event.run, attempt: event.attempt, retryInMs: event.retryInMs, code: event.error.code, hint: event.error.hint, stderr: event.report?.stderr.text.slice(-500) });
        break;
      case 'remount-verified':
        if (event.fresh) log.info('remount verified: the mount check and the probe find the view fresh', { remount: event.type, run: event.run, fresh: true });
        else log.warn('after the remount the view is still not fresh', { remount: event.type, run: event.run, fresh: false, errors: event.findings.filter((f) => f.severity === 'error').map((f) => f.id) });
        break;
      case 'remount-gave-up':
        log.error(`remount gave up after ${event.attempts} attempt${event.attempts === 1 ? '' : 's'}: ${event.error.message}; the flag stays set and the agent keeps watching`, { remount: event.type, run: event.run, attempts: event.attempts, requests: event.requests, code: event.error.code, hint: event.error.hint });
        break;
    }
    this.emit('remount', event);
  }
}

/** The store paths a request names, for the probe after the remount (at most 100 of a big lower growth). */
function pathsOfRequest(request: RemountRequest): readonly string[] {
  switch (request.source) {
    case 'watcher':
      return [request.storePath];
    case 'probe':
      return [request.path];
    case 'lower-grew':
      return request.paths.slice(0, 100);
    case 'nix-hook':
    case 'manual':
      return [];
  }
}

/** Log fields of an event: counts and the first few paths, never a million names in one line. */
function summariseEvent(event: DriftEvent): Record<string, unknown> {
  const { type: _type, ...rest } = event as DriftEvent & Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    fields[key] = Array.isArray(value) && value.length > 10 ? { count: value.length, first: value.slice(0, 10) } : value;
  }
  return fields;
}
