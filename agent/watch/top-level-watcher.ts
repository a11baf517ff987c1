/** Watches the top level of one directory with a single non-recursive inotify watch, batching names over a debounce. */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, messageOf } from '../errors/index.ts';
import { WatchError } from './watch-errors.ts';

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
  /** Quiet time after the last event before a batch is delivered (config `watch.debounceMs`). */
  readonly debounceMs: number;
  /** Longest a batch waits under a continuous stream of events. Default: 4 × debounceMs, at least 100 ms. */
  readonly maxWaitMs?: number;
  /** Most names collected per batch; beyond, the batch is marked `overflow` (a rescan is cheaper). Default 10,000. */
  readonly maxNames?: number;
  /** Keep the process alive while watching (default true). */
  readonly persistent?: boolean;
  readonly onBatch: (batch: DirBatch) => void;
  readonly onError: (error: WatchError) => void;
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
 */
export class TopLevelWatcher {
  readonly dir: string;
  readonly #options: Required<TopLevelWatcherOptions>;
  #watcher: fs.FSWatcher | undefined;
  #pending = new Map<string, NameChange>();
  #overflow = false;
  #firstAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #ino: bigint | undefined;

  constructor(dir: string, options: TopLevelWatcherOptions) {
    this.dir = dir;
    this.#options = Object.freeze({
      debounceMs: options.debounceMs,
      maxWaitMs: options.maxWaitMs ?? Math.max(100, 4 * options.debounceMs),
      maxNames: options.maxNames ?? 10_000,
      persistent: options.persistent ?? true,
      onBatch: options.onBatch,
      onError: options.onError,
    });
  }

  /** Starts watching. @throws WatchError WATCH_DIR_FAILED (evidence: dir, errno; ENOSPC: no inotify watch left). */
  start(): void {
    if (this.#watcher !== undefined) return;
    try {
      this.#ino = fs.statSync(this.dir, { bigint: true }).ino;
      this.#watcher = fs.watch(this.dir, { persistent: this.#options.persistent, recursive: false, encoding: 'utf8' }, (event, name) =>
        this.#onEvent(event, name),
      );
    } catch (cause) {
      const errno = errnoCode(cause);
      throw new WatchError('WATCH_DIR_FAILED', `cannot watch ${this.dir}: ${errno ?? messageOf(cause)}`, {
        cause,
        evidence: { dir: this.dir, errno },
        hint:
          errno === 'ENOSPC'
            ? 'raise fs.inotify.max_user_watches (sysctl), or stop other recursive watchers'
            : 'check that the directory exists and is readable',
      });
    }
    this.#watcher.on('error', (cause) => {
      this.#options.onError(
        new WatchError('WATCH_DIR_FAILED', `watching ${this.dir} failed: ${errnoCode(cause) ?? messageOf(cause)}`, {
          cause,
          evidence: { dir: this.dir, errno: errnoCode(cause) },
        }),
      );
    });
  }

  /** Delivers the pending batch now (if any) instead of waiting for the debounce. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0 && !this.#overflow) return;
    const batch: DirBatch = { names: this.#pending, overflow: this.#overflow };
    this.#pending = new Map();
    this.#overflow = false;
    this.#options.onBatch(batch);
  }

  /** Stops watching and drops pending names. Idempotent. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#pending = new Map();
  }

  #onEvent(event: string, name: string | null): void {
    if (name === null) this.#overflow = true;
    else if (name === path.basename(this.dir) && this.#selfGone()) return;
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

  /**
   * Whether the watched directory itself was deleted or replaced (inotify then reports its own name and goes
   * quiet); if so, reports WATCH_DIR_GONE and stops.
   */
  #selfGone(): boolean {
    let ino: bigint | undefined;
    try {
      ino = fs.statSync(this.dir, { bigint: true }).ino;
    } catch {
      ino = undefined;
    }
    if (ino === this.#ino) return false;
    this.close();
    this.#options.onError(
      new WatchError('WATCH_DIR_GONE', `watched directory ${this.dir} was ${ino === undefined ? 'deleted' : 'replaced'}; its changes are no longer seen`, {
        evidence: { dir: this.dir },
        hint: 'restart overlay-warden (or its watcher) once the directory is back',
      }),
    );
    return true;
  }
}
