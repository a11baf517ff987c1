/** Keeps a directory's watch honest: notices the directory lost (deleted, moved away, replaced) and re-opens the watch once one is back. */
import fs from 'node:fs';
import { errnoCode, messageOf } from '../errors/index.ts';
import { WatcherHealthState, type WatcherDownReason, type WatcherHealth, type WatcherHealthEvent, type WatcherName } from './watcher-health.ts';

/** Which directory a watch is on: inotify follows the inode it was opened on, wherever that inode goes. */
export interface DirIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** What stands at a watched path now: a directory and its identity, or why there is none to watch. */
export type DirPresence =
  | { readonly kind: 'directory'; readonly identity: DirIdentity }
  | { readonly kind: 'missing'; readonly reason: Exclude<WatcherDownReason, 'replaced' | 'unreadable'>; readonly detail: string };

/** Stats `dir`, following symlinks as a watch does. Never throws. */
export function dirPresence(dir: string): DirPresence {
  try {
    const stats = fs.statSync(dir, { bigint: true });
    if (!stats.isDirectory()) return { kind: 'missing', reason: 'not-a-directory', detail: 'ENOTDIR' };
    return { kind: 'directory', identity: { dev: stats.dev, ino: stats.ino } };
  } catch (cause) {
    const errno = errnoCode(cause);
    // ENOENT, or ENOTDIR from a component: gone. Anything else (EACCES, ELOOP): there, but it cannot be watched.
    return { kind: 'missing', reason: errno === 'ENOENT' || errno === 'ENOTDIR' ? 'vanished' : 'watch-failed', detail: errno ?? messageOf(cause) };
  }
}

/** Why a watch opened on `watched` no longer sees what stands at its path (`now`); undefined while it does. Pure. */
export function dirLoss(watched: DirIdentity, now: DirPresence): { readonly reason: WatcherDownReason; readonly detail: string | undefined } | undefined {
  if (now.kind === 'missing') return { reason: now.reason, detail: now.detail };
  if (now.identity.dev === watched.dev && now.identity.ino === watched.ino) return undefined;
  return { reason: 'replaced', detail: undefined };
}

export interface DirSentinelOptions {
  readonly dir: string;
  readonly watcher: WatcherName;
  /** How often the directory is stat-ed: while watched, to see it lost; while lost, to see it back. */
  readonly checkMs: number;
  /** Keep the process alive with the check timer. */
  readonly persistent: boolean;
  readonly now: () => Date;
  /** Opens the owner's watch on the directory now at the path; throws when it cannot. */
  readonly reopen: () => void | Promise<void>;
  /** Closes the owner's watch (its directory is lost, or it is re-opened). */
  readonly shut: () => void | Promise<void>;
  /** Once the watch is back: find what changed while it was not watching (the gap), as ordinary drift. */
  readonly resync: () => void;
  readonly onHealth: (event: WatcherHealthEvent) => void;
}

/**
 * Watches over one watch of a directory. The owner opens its watch, then calls `opened`; from then on the directory
 * is stat-ed every `checkMs` (and whenever the owner calls `check`, e.g. before each batch). A directory that is gone,
 * or replaced by another inode (the watch would go on following the old one: a lower dir removed while an overlay
 * pins it gives no inotify event at all), is lost: the owner's watch is shut, `watcher-down` is reported, and the path
 * is stat-ed every `checkMs` until a directory stands there again; then the watch is re-opened, `watcher-up` is
 * reported and the owner resynchronises. Cheap: one stat per period, nothing watched while the directory is gone.
 */
export class DirSentinel {
  readonly #o: DirSentinelOptions;
  readonly #health: WatcherHealthState;
  #state: 'idle' | 'watching' | 'lost' | 'opening' | 'closed' = 'idle';
  #identity: DirIdentity | undefined;
  #timer: NodeJS.Timeout | undefined;
  #shutting: Promise<void> = Promise.resolve();

  constructor(options: DirSentinelOptions) {
    this.#o = Object.freeze({ ...options });
    this.#health = new WatcherHealthState(options.watcher, options.dir, options.now, options.onHealth);
  }

  /** This watcher's state for `status`. */
  get health(): WatcherHealth {
    return this.#health.current;
  }

  /** The owner's watch is open on the directory whose identity is `identity`: checks start. */
  opened(identity: DirIdentity): void {
    if (this.#state === 'closed') return;
    this.#identity = identity;
    this.#state = 'watching';
    this.#health.observe({ up: true });
    this.#tick();
  }

  /** The directory cannot be watched (`reason`): shuts the owner's watch and looks for a directory to come back. */
  lost(reason: WatcherDownReason, detail: string | undefined): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'watching') this.#shut();
    this.#state = 'lost';
    this.#health.observe({ up: false, reason, detail });
    this.#tick();
  }

  /** Stats the directory now; reports it lost when it is. True while it is watched. */
  check(): boolean {
    if (this.#state !== 'watching' || this.#identity === undefined) return false;
    const loss = dirLoss(this.#identity, dirPresence(this.#o.dir));
    if (loss === undefined) return true;
    this.lost(loss.reason, loss.detail);
    return false;
  }

  /**
   * The watch reported the directory itself (deleted, or moved). When it is still there with the same identity, it
   * may have moved away and back, or been deleted and its inode number reused: re-opened either way, then resynchronised.
   */
  suspect(): void {
    if (!this.check()) return;
    this.#shut();
    void this.#reopen();
  }

  /** Stops checking. Idempotent; the owner closes its own watch. */
  close(): void {
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #shut(): void {
    this.#shutting = Promise.resolve()
      .then(() => this.#o.shut())
      .catch(() => {});
  }

  /** Keeps one timer going while watching or lost. */
  #tick(): void {
    if (this.#timer !== undefined || this.#state === 'closed') return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Each path ends in lost() or opened(), which tick again; a closed sentinel stops here.
      if (this.#state === 'watching' && this.check()) this.#tick();
      else if (this.#state === 'lost') void this.#reopen();
    }, this.#o.checkMs);
    if (!this.#o.persistent) this.#timer.unref();
  }

  async #reopen(): Promise<void> {
    const presence = dirPresence(this.#o.dir);
    if (presence.kind === 'missing') return this.lost(presence.reason, presence.detail);
    this.#state = 'opening';
    try {
      await this.#shutting;
      if (this.#state !== 'opening') return;
      await this.#o.reopen();
    } catch (cause) {
      return this.lost('watch-failed', errnoCode(cause) ?? messageOf(cause));
    }
    // Closed while opening: the watch just opened must not outlive it.
    if (this.#state !== 'opening') return this.#shut();
    this.opened(presence.identity);
    this.#o.resync();
  }
}
