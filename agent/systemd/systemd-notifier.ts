/**
 * The process's line to systemd (Type=notify): READY=1 and STATUS= as the agent's readiness changes, WATCHDOG=1 while
 * it is alive, STOPPING=1 on the way out. It lives as long as the process (a SIGHUP reload keeps it and its watchdog);
 * each agent run attaches to it through `systemdService`.
 */
import { messageOf, type WardenError } from '../errors/index.ts';
import type { Readiness } from '../http/index.ts';
import { earnsWatchdogPing, NO_NOTIFY_PROGRESS, planNotification, type NotifyProgress } from './notify-plan.ts';
import type { NotifyEnv } from './notify-env.ts';
import { systemdNotify, type NotifySender } from './systemd-notify.ts';
import { SystemdError } from './systemd-errors.ts';

/** How long the agent's action queue may stay busy before the watchdog ping is withheld. */
export const WATCHDOG_STALL_LIMIT_MS = 5 * 60_000;

export interface SystemdNotifierOptions {
  /** How messages go out (tests pass a recorder; the default runs `systemd-notify`). */
  readonly send?: NotifySender;
  /** Where a failed send is reported (the current agent's logger; reattached on reload). */
  onError?(error: WardenError): void;
  readonly now?: () => number;
  readonly stallLimitMs?: number;
}

/** Asks the running agent whether its queue still moves: resolves when the actions queued so far are done. */
export type QueueSettled = () => Promise<void>;

export class SystemdNotifier {
  readonly #env: NotifyEnv;
  readonly #send: NotifySender;
  readonly #now: () => number;
  readonly #stallLimitMs: number;
  #onError: ((error: WardenError) => void) | undefined;
  #progress: NotifyProgress = NO_NOTIFY_PROGRESS;
  #queue: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #settled: QueueSettled | undefined;
  #pendingSinceMs: number | undefined;
  #pinging = false;
  #lastSendFailed = false;
  #stopping = false;

  constructor(env: NotifyEnv, options: SystemdNotifierOptions = {}) {
    this.#env = env;
    this.#send = options.send ?? systemdNotify;
    this.#now = options.now ?? Date.now;
    this.#stallLimitMs = options.stallLimitMs ?? WATCHDOG_STALL_LIMIT_MS;
    this.#onError = options.onError;
    if (env.watchdogPingMs !== undefined) {
      this.#timer = setInterval(() => this.#ping(), env.watchdogPingMs).unref();
      // The first ping at once: WatchdogSec= runs from the process's start, and the start itself takes a while.
      this.#ping();
    }
  }

  /** What systemd asked for (tests, `status`). */
  get env(): NotifyEnv {
    return this.#env;
  }

  /**
   * The running agent attaches: its errors go to `onError`, its queue is probed by the watchdog through `settled`.
   * Returns the detach function (the agent is closing; the watchdog then pings on the event loop alone).
   */
  attach(onError: (error: WardenError) => void, settled: QueueSettled): () => void {
    this.#onError = onError;
    this.#settled = settled;
    this.#pendingSinceMs = undefined;
    return () => {
      if (this.#settled !== settled) return;
      this.#settled = undefined;
      this.#pendingSinceMs = undefined;
    };
  }

  /** Tells systemd what changed in the agent's readiness (nothing when nothing did). Never rejects. */
  readiness(readiness: Readiness, mergedStoreDir: string): Promise<void> {
    if (this.#stopping) return this.#queue;
    const step = planNotification(this.#progress, readiness, mergedStoreDir);
    this.#progress = step.progress;
    if (step.assignments.length === 0) return this.#queue;
    return this.#enqueue(step.assignments);
  }

  /** STOPPING=1 (the process is on its way out) and no more watchdog pings. Idempotent; never rejects. */
  stopping(): Promise<void> {
    if (this.#stopping) return this.#queue;
    this.#stopping = true;
    clearInterval(this.#timer);
    return this.#enqueue(['STOPPING=1', 'STATUS=stopping']);
  }

  /** Messages go out one after another, so READY=1 never overtakes the STATUS= sent before it. */
  #enqueue(assignments: readonly string[]): Promise<void> {
    this.#queue = this.#queue.then(() => this.#sendNow(assignments));
    return this.#queue;
  }

  async #sendNow(assignments: readonly string[]): Promise<void> {
    try {
      await this.#send(this.#env.socket, assignments);
      this.#lastSendFailed = false;
    } catch (error) {
      // One report per run of failures, not one per watchdog ping.
      if (this.#lastSendFailed) return;
      this.#lastSendFailed = true;
      const wrapped =
        error instanceof SystemdError ? error : new SystemdError('SYSTEMD_NOTIFY_FAILED', `notifying systemd failed: ${messageOf(error)}`, { cause: error });
      this.#onError?.(wrapped);
    }
  }

  /** One watchdog tick: the timer firing shows the event loop turns; the queue probe shows the agent's work still ends. */
  #ping(): void {
    this.#probeQueue();
    if (this.#pinging || !earnsWatchdogPing({ pendingSinceMs: this.#pendingSinceMs }, this.#now(), this.#stallLimitMs)) return;
    this.#pinging = true;
    void this.#sendNow(['WATCHDOG=1']).finally(() => (this.#pinging = false));
  }

  /** Starts a probe of the attached agent's queue unless one is still pending (its start time is what ages). */
  #probeQueue(): void {
    const settled = this.#settled;
    if (settled === undefined || this.#pendingSinceMs !== undefined) return;
    this.#pendingSinceMs = this.#now();
    void settled().then(
      () => {
        if (this.#settled === settled) this.#pendingSinceMs = undefined;
      },
      () => {
        if (this.#settled === settled) this.#pendingSinceMs = undefined;
      },
    );
  }
}
