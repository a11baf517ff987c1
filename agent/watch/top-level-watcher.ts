/** Watches the top level of one directory with a single non-recursive inotify watch, batching names over a debounce. */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, messageOf } from '../errors/index.ts';
import { dirPresence, DirSentinel } from './dir-sentinel.ts';
import { WatchError } from './watch-errors.ts';
import type { WatcherHealth, WatcherHealthEvent, WatcherName } from './watcher-health.ts';

/** What was seen for one name in a batch: `rename` (created, deleted, renamed) and/or `change` (attributes, contents). */
export interface NameChange {
  rename: boolean;
  change: boolean;
}

/** Names changed during one debounce window. `overflow`: names were lost or too many; the caller must rescan. */
export interface DirBatch {
  readonly names: ReadonlyMap<string, NameChange>;
  readonly overflow: boolean;
}

export interface TopLevelWatcherOptions {
  /** Which watcher this is, in health events and `status`. */
  readonly watcher: WatcherName;
  /** Quiet time after the last event before a batch is delivered (config `watch.debounceMs`). */
  readonly debounceMs: number;
  /** Longest a batch waits under a continuous stream of events. Default: 4 × debounceMs, at least 100 ms. */
  readonly maxWaitMs?: number;
  /** Most names collected per batch; beyond, the batch is marked `overflow` (a rescan is cheaper). Default 10,000. */
  readonly maxNames?: number;
  /** How often the directory is stat-ed to see it lost, and once lost to see it back (see DirSentinel). Default 1000 ms. */
  readonly checkMs?: number;
  /** Keep the process alive while watching (default true). */
  readonly persistent?: boolean;
  readonly now?: () => Date;
  readonly onBatch: (batch: DirBatch) => void;
  readonly onError: (error: WatchError) => void;
  /** `watcher-down` when the directory is lost, `watcher-up` when it is watched again. Default: dropped. */
  readonly onHealth?: (event: WatcherHealthEvent) => void;
}

/**
 * One `fs.watch(dir)` without `recursive`: one inotify watch whatever the number of entries, reporting each
 * created, deleted, renamed or changed top-level name. (Node's recursive watch adds a watch per subdirectory,
 * and chokidar with depth 0 stats every entry, watches each top-level file and re-lists the whole directory on
 * every change: see the README's measurements.) Changes deeper inside an entry are not seen.
 *
 * inotify queue overflows are silent in libuv, so correctness under bursts comes from `maxNames`: a burst big
 * enough to risk an overflow (the kernel queue holds max_queued_events, 16,384 by default) is delivered as
 * `overflow`, and the caller resynchronises from a full listing.
 *
 * The watch comes back when its directory does (DirSentinel): once watched again, an empty `overflow` batch makes
 * the caller resynchronise, so what changed while it was down is reported like any other change.
 */
export class TopLevelWatcher {
  readonly dir: string;
  readonly #options: Required<Omit<TopLevelWatcherOptions, 'watcher'>>;
  readonly #sentinel: DirSentinel;
  #watcher: fs.FSWatcher | undefined;
  #pending = new Map<string, NameChange>();
  #overflow = false;
  #firstAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(dir: string, options: TopLevelWatcherOptions) {
    this.dir = dir;
    this.#options = Object.freeze({
      debounceMs: options.debounceMs,
      maxWaitMs: options.maxWaitMs ?? Math.max(100, 4 * options.debounceMs),
      maxNames: options.maxNames ?? 10_000,
      checkMs: options.checkMs ?? 1000,
      persistent: options.persistent ?? true,
      now: options.now ?? (() => new Date()),
      onBatch: options.onBatch,
      onError: options.onError,
      onHealth: options.onHealth ?? (() => {}),
    });
    const { checkMs, persistent, now, onHealth } = this.#options;
    this.#sentinel = new DirSentinel({
      dir,
      watcher: options.watcher,
      checkMs,
      persistent,
      now,
      onHealth,
      reopen: () => this.#open(),
      shut: () => this.#shut(),
      resync: () => {
        this.#overflow = true;
        this.flush();
      },
    });
  }

  /** Whether the directory is watched now (for `status`). */
  get health(): WatcherHealth {
    return this.#sentinel.health;
  }

  /** Starts watching. @throws WatchError WATCH_DIR_FAILED (evidence: dir, errno; ENOSPC: no inotify watch left). */
  start(): void {
    if (this.#watcher !== undefined) return;
    const presence = dirPresence(this.dir);
    if (presence.kind === 'missing') throw this.#cannotWatch(presence.detail, undefined);
    try {
      this.#open();
    } catch (cause) {
      throw this.#cannotWatch(errnoCode(cause) ?? messageOf(cause), cause);
    }
    this.#sentinel.opened(presence.identity);
  }

  /** Delivers the pending batch now (if any) instead of waiting for the debounce; first checks that the directory is still the one watched. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0 && !this.#overflow) return;
    if (!this.#sentinel.check()) return;
    const batch: DirBatch = { names: this.#pending, overflow: this.#overflow };
    this.#pending = new Map();
    this.#overflow = false;
    this.#options.onBatch(batch);
  }

  /** Stops watching and drops pending names. Idempotent. */
  close(): void {
    this.#sentinel.close();
    this.#shut();
  }

  #cannotWatch(errno: string, cause: unknown): WatchError {
    return new WatchError('WATCH_DIR_FAILED', `cannot watch ${this.dir}: ${errno}`, {
      cause,
      evidence: { dir: this.dir, errno },
      hint:
        errno === 'ENOSPC' ? 'raise fs.inotify.max_user_watches (sysctl), or stop other recursive watchers' : 'check that the directory exists and is readable',
    });
  }

  /** Opens the fs.watch. @throws the errno error fs.watch throws. */
  #open(): void {
    const watcher = fs.watch(this.dir, { persistent: this.#options.persistent, recursive: false, encoding: 'utf8' }, (event, name) =>
      this.#onEvent(event, name),
    );
    // Node closes a watch after its error: the sentinel re-opens it once the directory can be watched.
    watcher.on('error', (cause) => {
      if (watcher === this.#watcher) this.#sentinel.lost('watch-failed', errnoCode(cause) ?? messageOf(cause));
    });
    this.#watcher = watcher;
  }

  /** Closes the fs.watch and drops what it collected (a resynchronisation follows when it is re-opened). */
  #shut(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#pending = new Map();
    this.#overflow = false;
  }

  #onEvent(event: string, name: string | null): void {
    // inotify names the watched directory itself (by its base name) when it is deleted or moved.
    if (name === path.basename(this.dir) && event === 'rename') return this.#sentinel.suspect();
    if (name === null) this.#overflow = true;
    else if (!this.#overflow) {
      let seen = this.#pending.get(name);
      if (seen === undefined) {
        if (this.#pending.size >= this.#options.maxNames) {
          this.#overflow = true;
          this.#pending.clear();
        } else this.#pending.set(name, (seen = { rename: false, change: false }));
      }
      if (seen !== undefined) {
        if (event === 'rename') seen.rename = true;
        else seen.change = true;
      }
    }
    const now = performance.now();
    if (this.#timer === undefined) this.#firstAt = now;
    else clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.#options.debounceMs, this.#options.maxWaitMs - (now - this.#firstAt)));
    this.#timer = setTimeout(() => this.flush(), wait);
    if (!this.#options.persistent) this.#timer.unref();
  }
}
