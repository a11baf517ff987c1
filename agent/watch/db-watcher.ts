/** Watches the lower Nix DB (db.sqlite and its WAL) with chokidar; any change of its identity is drift. */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { readLowerDbIdentity, type LowerDbIdentity } from '../baseline/index.ts';
import { errnoCode, messageOf } from '../errors/index.ts';
import { dirPresence, DirSentinel } from './dir-sentinel.ts';
import { DriftEmitter } from './drift-emitter.ts';
import { lowerDbEvent } from './event-builders.ts';
import { WatchError } from './watch-errors.ts';
import type { WatcherHealth } from './watcher-health.ts';

export interface LowerDbWatcherOptions {
  /** The lower DB file (layout `lower.db`). */
  readonly db: string;
  /** Quiet time after the last file event before the identity is re-read. */
  readonly debounceMs: number;
  /** The identity last known (the baseline's); a change from it is reported at the first check. */
  readonly initial: LowerDbIdentity | null;
  /** How often the DB's directory is stat-ed to see it lost, and once lost to see it back. Default 1000 ms. */
  readonly dirCheckMs?: number;
  readonly persistent?: boolean;
  readonly now?: () => Date;
  /** Reads the identity (tests inject). Default readLowerDbIdentity. */
  readonly readIdentity?: (file: string) => LowerDbIdentity | null;
}

/**
 * chokidar on the DB's directory at depth 0, ignoring everything but `db.sqlite` and `db.sqlite-wal` (`-shm` changes
 * through mmap on every read transaction, and readers create it: not drift). chokidar copes with the file being
 * replaced by rename (it re-watches the new inode) and with the WAL appearing and vanishing; its events only
 * trigger a re-read of the identity, which alone decides: `lower-db-replaced` (new inode, appeared, vanished) or
 * `lower-db-modified` (size, mtime, WAL or ValidPaths counters). The lower store must not change while mounted, so
 * every such change is drift. The identity says what the file now holds (`content`), so a DB replaced by something
 * that is not a Nix DB is reported as that.
 *
 * chokidar stops watching a directory that was removed and never comes back to it; a DirSentinel does: the
 * directory lost (or missing at start) is `watcher-down` on `health`, and once a directory is back it is watched
 * again (`watcher-up`) and the identity re-read, which reports what happened to the DB meanwhile.
 */
export class LowerDbWatcher extends DriftEmitter {
  readonly #options: Required<LowerDbWatcherOptions>;
  readonly #dir: string;
  readonly #sentinel: DirSentinel;
  #identity: LowerDbIdentity | null;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;

  constructor(options: LowerDbWatcherOptions) {
    super();
    this.#options = Object.freeze({
      db: options.db,
      debounceMs: options.debounceMs,
      initial: options.initial,
      dirCheckMs: options.dirCheckMs ?? 1000,
      persistent: options.persistent ?? true,
      now: options.now ?? (() => new Date()),
      readIdentity: options.readIdentity ?? readLowerDbIdentity,
    });
    this.#identity = options.initial;
    this.#dir = path.dirname(options.db);
    this.#sentinel = new DirSentinel({
      dir: this.#dir,
      watcher: 'lower-db',
      checkMs: this.#options.dirCheckMs,
      persistent: this.#options.persistent,
      now: this.#options.now,
      onHealth: (event) => this.emitHealth(event),
      reopen: () => this.#open(),
      shut: () => this.#shut(),
      resync: () => this.check(),
    });
  }

  /** The identity at the last check. */
  get identity(): LowerDbIdentity | null {
    return this.#identity;
  }

  /** Whether the DB's directory is watched now (for `status`). */
  get health(): WatcherHealth {
    return this.#sentinel.health;
  }

  /**
   * Starts watching (resolves when chokidar is ready), then checks once against the initial identity. A DB
   * directory missing at start, or lost later, is reported `watcher-down` and watched again once it is back.
   */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const presence = dirPresence(this.#dir);
    if (presence.kind === 'directory') {
      await this.#open();
      this.#sentinel.opened(presence.identity);
    } else this.#sentinel.lost(presence.reason, presence.detail);
    this.check();
  }

  /** Re-reads the identity now and emits the change from the last one, if any. */
  check(): void {
    if (this.#closed) return;
    let after: LowerDbIdentity | null;
    try {
      after = this.#options.readIdentity(this.#options.db);
    } catch (cause) {
      this.emitError(
        new WatchError('WATCH_DB_FAILED', `cannot stat the lower DB ${this.#options.db}: ${errnoCode(cause) ?? messageOf(cause)}`, {
          cause,
          evidence: { file: this.#options.db, errno: errnoCode(cause) },
        }),
      );
      return;
    }
    const event = lowerDbEvent(this.#identity, after, 'live', 'watch', this.#options.now().toISOString());
    this.#identity = after;
    if (event !== undefined) this.emitDrift(event);
  }

  /** Checks now if a check is pending (skips the debounce). */
  flush(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.check();
  }

  /** Stops watching. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#sentinel.close();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }

  /** Opens chokidar on the directory; resolves once it is ready. */
  async #open(): Promise<void> {
    const dir = this.#dir;
    const names = new Set([path.basename(this.#options.db), `${path.basename(this.#options.db)}-wal`]);
    const watcher = watch(dir, {
      depth: 0,
      ignoreInitial: true,
      persistent: this.#options.persistent,
      ignored: (file: string) => file !== dir && !names.has(path.basename(file)),
    });
    this.#watcher = watcher;
    watcher.on('all', (event, file) => {
      if (watcher !== this.#watcher) return;
      // chokidar stops watching a directory that was removed: the sentinel sees it gone and takes over.
      if (event === 'unlinkDir' && file === dir) this.#sentinel.check();
      this.#schedule();
    });
    watcher.on('error', (cause) => {
      if (watcher !== this.#watcher) return;
      this.emitError(
        new WatchError('WATCH_DB_FAILED', `watching the lower DB ${this.#options.db} failed: ${errnoCode(cause) ?? messageOf(cause)}`, {
          cause,
          evidence: { file: this.#options.db, errno: errnoCode(cause) },
        }),
      );
      this.#sentinel.check();
    });
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
    if (this.#closed) await this.close();
  }

  /** Closes chokidar on a lost directory, and reports at once what the loss did to the DB (vanished, replaced). */
  async #shut(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
    this.check();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.check();
    }, this.#options.debounceMs);
    if (!this.#options.persistent) this.#timer.unref();
  }
}
