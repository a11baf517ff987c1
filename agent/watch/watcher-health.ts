/** Whether each watcher sees its target: the `watcher-down`/`watcher-up` events, and the state `status` shows. */

/** Every watcher health event type, as a public list (alert rules key on these; never rename one). */
export const WATCHER_HEALTH_EVENT_TYPES = ['watcher-down', 'watcher-up'] as const;
export type WatcherHealthEventType = (typeof WATCHER_HEALTH_EVENT_TYPES)[number];

/** Every watcher the agent runs, by the name events and `status` give it. */
export const WATCHER_NAMES = ['lower-store-dir', 'upper-layer', 'lower-db', 'mount-table', 'lower-daemon'] as const;
export type WatcherName = (typeof WATCHER_NAMES)[number];

/**
 * Why a watcher is down:
 * - `vanished`: its directory is gone from its path (deleted, or moved away);
 * - `replaced`: another directory (a new inode) now stands at its path: the watch still follows the old one;
 * - `not-a-directory`: something else stands at its path;
 * - `watch-failed`: the directory is there but the watch failed or could not be opened (`detail`: the errno);
 * - `unreadable`: a polled file (the mount table) could not be read;
 * - `unavailable`: the lower nix-daemon could not be reached or answered wrong (`detail`: the DaemonError's code and
 *   message).
 */
export const WATCHER_DOWN_REASONS = ['vanished', 'replaced', 'not-a-directory', 'watch-failed', 'unreadable', 'unavailable'] as const;
export type WatcherDownReason = (typeof WATCHER_DOWN_REASONS)[number];

interface WatcherHealthEventBase<T extends WatcherHealthEventType> {
  readonly type: T;
  readonly watcher: WatcherName;
  /** The directory (or file) the watcher watches. */
  readonly target: string;
  /** When the change was noticed (ISO 8601). */
  readonly at: string;
}

/** A watcher stopped seeing its target: changes there go unseen until `watcher-up`. */
export interface WatcherDownEvent extends WatcherHealthEventBase<'watcher-down'> {
  readonly reason: WatcherDownReason;
  /** The errno or message behind the reason, when there is one. */
  readonly detail: string | undefined;
}

/** A watcher sees its target again; what changed meanwhile follows as ordinary drift events. */
export interface WatcherUpEvent extends WatcherHealthEventBase<'watcher-up'> {
  /** When it went down, and why. */
  readonly downSince: string;
  readonly reason: WatcherDownReason;
}

export type WatcherHealthEvent = WatcherDownEvent | WatcherUpEvent;

/** One watcher's state for `status`: `starting` until it first watches, `up` while it sees its target, `down` while not. */
export type WatcherHealth =
  | { readonly watcher: WatcherName; readonly target: string; readonly state: 'starting' }
  | { readonly watcher: WatcherName; readonly target: string; readonly state: 'up'; readonly since: string }
  | {
      readonly watcher: WatcherName;
      readonly target: string;
      readonly state: 'down';
      readonly since: string;
      readonly reason: WatcherDownReason;
      readonly detail: string | undefined;
    };

/** What a watcher observed about its target: it watches it, or it does not (and why). */
export type HealthObservation = { readonly up: true } | { readonly up: false; readonly reason: WatcherDownReason; readonly detail?: string | undefined };

/**
 * The state after `seen`, and the event to emit if the change is news: going down (from `starting` too) emits
 * `watcher-down`; coming back from down emits `watcher-up`; the first `up` after `starting` emits nothing; staying
 * down keeps `since` and the first reason, and only refreshes `detail`. Pure.
 */
export function nextWatcherHealth(
  current: WatcherHealth,
  seen: HealthObservation,
  at: string,
): { health: WatcherHealth; event: WatcherHealthEvent | undefined } {
  const { watcher, target } = current;
  if (seen.up) {
    if (current.state === 'up') return { health: current, event: undefined };
    const health: WatcherHealth = { watcher, target, state: 'up', since: at };
    if (current.state === 'starting') return { health, event: undefined };
    return { health, event: { type: 'watcher-up', watcher, target, at, downSince: current.since, reason: current.reason } };
  }
  const detail = seen.detail;
  if (current.state === 'down') return { health: { ...current, detail }, event: undefined };
  return {
    health: { watcher, target, state: 'down', since: at, reason: seen.reason, detail },
    event: { type: 'watcher-down', watcher, target, at, reason: seen.reason, detail },
  };
}

/**
 * One watcher's health, kept current by its observations (see nextWatcherHealth); each transition that is news goes
 * to `onHealth`.
 */
export class WatcherHealthState {
  #health: WatcherHealth;
  readonly #now: () => Date;
  readonly #onHealth: (event: WatcherHealthEvent) => void;

  constructor(watcher: WatcherName, target: string, now: () => Date, onHealth: (event: WatcherHealthEvent) => void) {
    this.#health = { watcher, target, state: 'starting' };
    this.#now = now;
    this.#onHealth = onHealth;
  }

  get current(): WatcherHealth {
    return this.#health;
  }

  /** Records an observation; emits the event it calls for, if any. */
  observe(seen: HealthObservation): void {
    const { health, event } = nextWatcherHealth(this.#health, seen, this.#now().toISOString());
    this.#health = health;
    if (event !== undefined) this.#onHealth(event);
  }
}
