/** Watches the lower Nix DB (db.sqlite and its WAL) with chokidar; any change of its identity is drift. */
import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { readLowerDbIdentity, type LowerDbIdentity } from '../baseline/index.ts';
import { errnoCode, messageOf } from '../errors/index.ts';
import { DriftEmitter } from './drift-emitter.ts';
import { lowerDbEvent } from './event-builders.ts';
import { WatchError } from './watch-errors.ts';

export interface LowerDbWatcherOptions {
  /** The lower DB file (layout `lower.db`). */
  readonly db: string;
  /** Quiet time after the last file event before the identity is re-read. */
  readonly debounceMs: number;
  /** The identity last known (the baseline's); a change from it is reported at the first check. */
  readonly initial: LowerDbIdentity | null;
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
 */
export class LowerDbWatcher extends DriftEmitter {
  readonly #options: Required<LowerDbWatcherOptions>;
  #identity: LowerDbIdentity | null;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: LowerDbWatcherOptions) {
    super();
    this.#options = Object.freeze({
      db: options.db,
      debounceMs: options.debounceMs,
      initial: options.initial,
      persistent: options.persistent ?? true,
      now: options.now ?? (() => new Date()),
      readIdentity: options.readIdentity ?? readLowerDbIdentity,
    });
    this.#identity = options.initial;
  }

  /** The identity at the last check. */
  get identity(): LowerDbIdentity | null {
    return this.#identity;
  }

  /**
   * Starts watching (resolves when chokidar is ready), then checks once against the initial identity. A missing DB
   * directory is reported as WATCH_DIR_FAILED on `error`, and one deleted later as WATCH_DIR_GONE (nothing there is
   * watched any more).
   */
  async start(): Promise<void> {
    if (this.#watcher !== undefined || this.#closed) return;
    const dir = path.dirname(this.#options.db);
    const names = new Set([path.basename(this.#options.db), `${path.basename(this.#options.db)}-wal`]);
    const watcher = watch(dir, {
      depth: 0,
      ignoreInitial: true,
      persistent: this.#options.persistent,
      ignored: (file: string) => file !== dir && !names.has(path.basename(file)),
    });
    this.#watcher = watcher;
    watcher.on('all', (event, file) => {
      // chokidar stops watching a directory that was removed, and does not come back when it is made again.
      if (event === 'unlinkDir' && file === dir) {
        this.emitError(
          new WatchError('WATCH_DIR_GONE', `the lower DB's directory ${dir} was deleted; changes of the DB are no longer seen`, {
            evidence: { dir },
            hint: 'restart overlay-warden once the directory is back',
          }),
        );
      }
      this.#schedule();
    });
    watcher.on('error', (cause) => {
      this.emitError(
        new WatchError('WATCH_DB_FAILED', `watching the lower DB ${this.#options.db} failed: ${errnoCode(cause) ?? messageOf(cause)}`, {
          cause,
          evidence: { file: this.#options.db, errno: errnoCode(cause) },
        }),
      );
    });
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
    this.#checkDir(dir);
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
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }

  /** chokidar silently watches nothing when the directory is missing (ENOENT, ENOTDIR): say so, since a DB appearing there is never seen. */
  #checkDir(dir: string): void {
    let errno: string | undefined;
    try {
      if (!fs.statSync(dir).isDirectory()) errno = 'ENOTDIR';
    } catch (cause) {
      errno = errnoCode(cause) ?? messageOf(cause);
    }
    if (errno === undefined) return;
    this.emitError(
      new WatchError('WATCH_DIR_FAILED', `cannot watch the lower DB ${this.#options.db}: its directory ${dir} is missing or not a directory (${errno})`, {
        evidence: { dir, errno },
      }),
    );
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
