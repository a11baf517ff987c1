/** Polls the nix-daemon serving the lower store: its valid paths changing is drift; it going away is `watcher-down`, with reconnects. */
import { compareDaemonIdentity, readLowerDaemonIdentity, type LowerDaemonIdentity } from '../baseline/index.ts';
import { messageOf } from '../errors/index.ts';
import { connectDaemon, DaemonError, type DaemonClient, type DaemonClientOptions } from '../store/index.ts';
import { reconnectDelayMs } from './daemon-backoff.ts';
import { DriftEmitter } from './drift-emitter.ts';
import { WatcherHealthState, type WatcherHealth } from './watcher-health.ts';

/** Timers, injectable so tests drive the schedule without waiting. */
export interface WatcherTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LowerDaemonWatcherOptions {
  /** The daemon's socket (layout `lower.daemonSocket`). */
  readonly socket: string;
  /** The logical store dir its paths are under. */
  readonly storeDir: string;
  /** Time between polls while it answers (config `watch.daemonPollMs`); also the longest reconnect wait. */
  readonly pollMs: number;
  /** The identity last known (the baseline's); a change from it is reported at the first poll that reaches the daemon. */
  readonly initial: LowerDaemonIdentity | null;
  /** The first reconnect wait (default 500 ms, at most `pollMs`), doubled per failure in a row up to `pollMs`. */
  readonly backoffInitialMs?: number;
  /** Connect timeout and per-operation timeout of each poll (config `watch.daemonTimeoutMs`; default: the client's). */
  readonly timeoutMs?: number;
  /** Opens a client (tests inject). Default connectDaemon. */
  readonly connect?: (socket: string, options: DaemonClientOptions) => Promise<DaemonClient>;
  readonly timers?: WatcherTimers;
  /** Jitter source for the backoff (see reconnectDelayMs). */
  readonly random?: () => number;
  readonly now?: () => Date;
  /** Keep the process alive while waiting for the next poll (default true). */
  readonly persistent?: boolean;
}

/** The lower daemon as `status` shows it. */
export interface LowerDaemonStatus {
  readonly socket: string;
  readonly state: WatcherHealth['state'];
  /** Since when it is in that state (absent while starting). */
  readonly since: string | null;
  /** The last failure (kept after it answers again, for the record), or null. */
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | null;
  /** The protocol version and Nix version of the last answer. */
  readonly protocol: string | null;
  readonly nixVersion: string | null;
  /** Paths it called valid at the last answer. */
  readonly validPaths: number | null;
  readonly lastAnswerAt: string | null;
  /** Failed polls in a row (0 while it answers). */
  readonly failures: number;
  /** When the next poll or reconnect attempt is due. */
  readonly nextAttemptAt: string | null;
}

const REAL_TIMERS: WatcherTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Each poll connects afresh (so a daemon that stopped listening is noticed even if an old worker would still
 * answer), reads the identity (one QueryAllValidPaths), and disconnects. Answered: `up`, and a set of valid paths
 * other than the last known one is `lower-daemon-modified`. Failed (connect refused, handshake rejected, a timeout,
 * a closed connection, garbage): a DaemonError, so `down` with reason `unavailable` and its code and message as
 * `detail`, and the next attempt after an exponential, jittered backoff (reconnectDelayMs) capped at `pollMs`. Back:
 * `watcher-up`, and the identity compared with the last one known before the loss (what changed meanwhile). A poll
 * never throws and nothing it meets stops the watcher: the agent keeps running whatever the daemon does.
 */
export class LowerDaemonWatcher extends DriftEmitter {
  readonly #o: Required<Omit<LowerDaemonWatcherOptions, 'timeoutMs'>> & { readonly timeoutMs: number | undefined };
  readonly #health: WatcherHealthState;
  readonly #abort = new AbortController();
  #identity: LowerDaemonIdentity | null;
  #status: Omit<LowerDaemonStatus, 'socket' | 'state' | 'since'>;
  #timer: unknown;
  #polling: Promise<void> | undefined;
  #started = false;
  #closed = false;

  constructor(options: LowerDaemonWatcherOptions) {
    super();
    if (!(options.pollMs > 0)) throw new RangeError(`LowerDaemonWatcher: pollMs must be > 0, got ${options.pollMs}`);
    this.#o = Object.freeze({
      ...options,
      backoffInitialMs: Math.min(options.backoffInitialMs ?? 500, options.pollMs),
      timeoutMs: options.timeoutMs,
      connect: options.connect ?? connectDaemon,
      timers: options.timers ?? REAL_TIMERS,
      random: options.random ?? Math.random,
      now: options.now ?? (() => new Date()),
      persistent: options.persistent ?? true,
    });
    this.#identity = options.initial;
    this.#health = new WatcherHealthState('lower-daemon', options.socket, this.#o.now, (event) => this.emitHealth(event));
    this.#status = { lastError: null, protocol: null, nixVersion: null, validPaths: null, lastAnswerAt: null, failures: 0, nextAttemptAt: null };
  }

  /** The identity at the last answer (or the initial one until the daemon answers): what a baseline saves. */
  get identity(): LowerDaemonIdentity | null {
    return this.#identity;
  }

  get health(): WatcherHealth {
    return this.#health.current;
  }

  status(): LowerDaemonStatus {
    const health = this.#health.current;
    return { socket: this.#o.socket, state: health.state, since: health.state === 'starting' ? null : health.since, ...this.#status };
  }

  /** Polls once (resolves after that first answer or failure), then keeps polling. Idempotent. */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    await this.poll();
  }

  /**
   * Polls now (a poll under way is joined, not doubled), and schedules the next one: `pollMs` after an answer, the
   * backoff after a failure. Never rejects.
   */
  poll(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#polling ??= this.#pollOnce()
      // #pollOnce catches every daemon failure; what is left is a listener throwing, which must not stop the polls.
      .catch(() => undefined)
      .finally(() => {
        this.#polling = undefined;
        this.#schedule();
      });
    return this.#polling;
  }

  /** Stops polling and aborts a poll under way. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.timers.clearTimeout(this.#timer);
    this.#abort.abort(new Error('watcher closing'));
    await this.#polling?.catch(() => undefined);
  }

  async #pollOnce(): Promise<void> {
    let client: DaemonClient | undefined;
    let after: LowerDaemonIdentity;
    try {
      const timeouts = this.#o.timeoutMs === undefined ? {} : { connectTimeoutMs: this.#o.timeoutMs, timeoutMs: this.#o.timeoutMs };
      client = await this.#o.connect(this.#o.socket, { storeDir: this.#o.storeDir, signal: this.#abort.signal, ...timeouts });
      after = await readLowerDaemonIdentity(client);
    } catch (cause) {
      if (!this.#closed) this.#failed(cause);
      return;
    } finally {
      client?.close();
    }
    if (this.#closed) return;
    const at = this.#o.now().toISOString();
    this.#status = { ...this.#status, protocol: after.protocol, nixVersion: after.nixVersion, validPaths: after.validPaths, lastAnswerAt: at, failures: 0 };
    const before = this.#identity;
    // Known before anything is emitted, so a baseline saved on `watcher-up` holds it.
    this.#identity = after;
    // Up first: the drift of the gap follows the watcher-up line, as for the directory watchers.
    this.#health.observe({ up: true });
    if (compareDaemonIdentity(before, after) === 'modified') this.emitDrift({ type: 'lower-daemon-modified', source: 'watch', at, before: before!, after });
  }

  #failed(cause: unknown): void {
    const code = cause instanceof DaemonError ? cause.code : 'DAEMON_UNEXPECTED';
    const message = messageOf(cause);
    const at = this.#o.now().toISOString();
    this.#status = { ...this.#status, failures: this.#status.failures + 1, lastError: { code, message, at } };
    this.#health.observe({ up: false, reason: 'unavailable', detail: `${code}: ${message}` });
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#o.timers.clearTimeout(this.#timer);
    const { failures } = this.#status;
    const delay = failures === 0 ? this.#o.pollMs : reconnectDelayMs(failures, { initialMs: this.#o.backoffInitialMs, maxMs: this.#o.pollMs }, this.#o.random);
    this.#status = { ...this.#status, nextAttemptAt: new Date(this.#o.now().getTime() + delay).toISOString() };
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined;
      void this.poll();
    }, delay);
    if (!this.#o.persistent) (this.#timer as { unref?: () => void } | undefined)?.unref?.();
  }
}
