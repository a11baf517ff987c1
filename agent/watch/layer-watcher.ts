/** Watches the lower store dir, the lower DB and the upper layer's top level, and turns changes into drift events. */
import type { LowerBaseline } from '../baseline/index.ts';
import { upperDbClosureLookup, type UpperClosureLookup } from './broken-closures.ts';
import { LowerDaemonWatcher, type LowerDaemonStatus } from './daemon-watcher.ts';
import { LowerDbWatcher } from './db-watcher.ts';
import { DriftEmitter } from './drift-emitter.ts';
import { LayerWatchContext } from './layer-watch-context.ts';
import { LowerDirWatcher } from './lower-dir-watcher.ts';
import { SerialQueue } from './serial-queue.ts';
import type { DriftLayout } from './startup-drift.ts';
import { UpperLayerWatcher } from './upper-layer-watcher.ts';
import { messageOf } from '../errors/index.ts';
import { WatchError } from './watch-errors.ts';
import type { WatcherHealth } from './watcher-health.ts';

export interface LayerWatcherOptions {
  /** The logical store dir event paths are named under. */
  readonly storeDir: string;
  /** The lower store dir (the overlay's lowerdir). */
  readonly lowerStoreDir: string;
  /** The lower DB file; undefined for a daemon lower store (no DB watch). */
  readonly lowerDb: string | undefined;
  /** A daemon lower store's socket: its valid paths are polled (LowerDaemonWatcher); undefined for other lower stores. */
  readonly lowerDaemon?: { readonly socket: string; readonly storeDir: string; readonly pollMs: number; readonly timeoutMs: number } | undefined;
  readonly upperLayer: string;
  readonly upperDb: string;
  /** Quiet time before a batch of changes becomes events (config `watch.debounceMs`). */
  readonly debounceMs: number;
  /** The lower store as last known: normally `startupDrift(…).current`. */
  readonly baseline: LowerBaseline;
  /** Default: the upper DB, read-only. */
  readonly closures?: UpperClosureLookup;
  /** Names per batch above which a full listing replaces per-name checks (default 10,000). */
  readonly maxBatchNames?: number;
  /** How often each watched directory is stat-ed to see it lost, and once lost to see it back (default 1000 ms). */
  readonly dirCheckMs?: number;
  /** Keep the process alive while watching (default true). */
  readonly persistent?: boolean;
  readonly now?: () => Date;
}

/** Options for a LayerWatcher from a configuration (its `layout` and `watch` settings) and the current baseline. */
export function layerWatcherOptionsOf(
  config: { readonly layout: DriftLayout; readonly watch: { readonly debounceMs: number; readonly daemonPollMs: number; readonly daemonTimeoutMs: number } },
  baseline: LowerBaseline,
): LayerWatcherOptions {
  const { layout, watch } = config;
  const socket = layout.lower.daemonSocket;
  return {
    storeDir: layout.storeDir,
    lowerStoreDir: layout.lower.realStoreDir,
    lowerDb: layout.lower.db,
    lowerDaemon:
      socket === undefined
        ? undefined
        : { socket, storeDir: layout.lower.storeDir ?? layout.storeDir, pollMs: watch.daemonPollMs, timeoutMs: watch.daemonTimeoutMs },
    upperLayer: layout.upperLayer,
    upperDb: layout.upperDb,
    debounceMs: config.watch.debounceMs,
    baseline,
  };
}

/**
 * The live half of drift detection. Three watches, none recursive:
 * - the lower store dir (LowerDirWatcher): one `fs.watch` → `lower-grew`, `lower-shrank` (with the upper closures
 *   it breaks), `lower-path-modified` (top-level entries only);
 * - the lower DB: chokidar on its directory (LowerDbWatcher) → `lower-db-replaced`, `lower-db-modified`; or, for a
 *   daemon lower store, the daemon polled (LowerDaemonWatcher) → `lower-daemon-modified`, and `watcher-down` while
 *   it is unavailable;
 * - the upper layer (UpperLayerWatcher): one `fs.watch` → `upper-path-added`, `upper-path-deleted` (with
 *   `alsoInLower`: a direct deletion of a path the lower has leaves a stale view), `upper-whiteout-added`.
 * Each watch comes back when its directory does (deleted, moved away, replaced, then back): `watcher-down` and
 * `watcher-up` on `health`, and what changed meanwhile as ordinary drift events (see DirSentinel).
 * Events are debounced per directory, then each name is stat-ed and compared with what was known, so a path created
 * and deleted within one window is no event, and event kinds (inotify's create/delete/move) are never trusted alone.
 * Batches of both directories are processed one at a time, in order (one SerialQueue). A burst beyond
 * `maxBatchNames` (or an inotify overflow) is resolved by a full listing instead. Nix lock files (`<path>.lock`)
 * and non-store names (`.links`) are ignored.
 */
export class LayerWatcher extends DriftEmitter {
  readonly #o: Required<Omit<LayerWatcherOptions, 'closures' | 'lowerDaemon'>> & { closures: UpperClosureLookup };
  readonly #queue: SerialQueue;
  readonly #lower: LowerDirWatcher;
  readonly #upper: UpperLayerWatcher;
  readonly #db: LowerDbWatcher | undefined;
  readonly #daemon: LowerDaemonWatcher | undefined;
  #started = false;
  #closed = false;

  constructor(options: LayerWatcherOptions) {
    super();
    this.#o = Object.freeze({
      ...options,
      closures: options.closures ?? upperDbClosureLookup(options.upperDb, options.storeDir),
      maxBatchNames: options.maxBatchNames ?? 10_000,
      dirCheckMs: options.dirCheckMs ?? 1000,
      persistent: options.persistent ?? true,
      now: options.now ?? (() => new Date()),
    });
    const { storeDir, lowerStoreDir, upperLayer, upperDb, closures, baseline, debounceMs, maxBatchNames, dirCheckMs, persistent, now } = this.#o;
    this.#queue = new SerialQueue((cause) =>
      this.emitError(cause instanceof WatchError ? cause : new WatchError('WATCH_SCAN_FAILED', `processing changes failed: ${messageOf(cause)}`, { cause })),
    );
    const context = new LayerWatchContext({
      storeDir,
      queue: this.#queue,
      debounceMs,
      maxBatchNames,
      dirCheckMs,
      persistent,
      now,
      onDrift: (event) => this.emitDrift(event),
      onError: (error) => this.emitError(error),
      onHealth: (event) => this.emitHealth(event),
    });
    this.#lower = new LowerDirWatcher(context, { lowerStoreDir, entries: baseline.entries, dirStamp: baseline.dirStamp, upperLayer, upperDb, closures });
    this.#upper = new UpperLayerWatcher(context, { upperLayer, lowerStoreDir });
    if (options.lowerDb !== undefined) {
      this.#db = new LowerDbWatcher({ db: options.lowerDb, debounceMs, initial: baseline.db, dirCheckMs, persistent, now });
      this.#db.on('drift', (event) => this.emitDrift(event));
      this.#db.on('health', (event) => this.emitHealth(event));
      this.#db.on('error', (error) => this.emitError(error));
    }
    if (options.lowerDaemon !== undefined) {
      this.#daemon = new LowerDaemonWatcher({ ...options.lowerDaemon, initial: baseline.daemon ?? null, persistent, now });
      this.#daemon.on('drift', (event) => this.emitDrift(event));
      this.#daemon.on('health', (event) => this.emitHealth(event));
      this.#daemon.on('error', (error) => this.emitError(error));
    }
  }

  /**
   * Starts the watches, then lists the upper layer's top level (to know what a deletion deletes) and checks that
   * nothing changed in the lower store dir between the baseline's listing and the start of its watch (its stamp;
   * if it moved, a full listing finds what was missed). Resolves once watching.
   * @throws WatchError WATCH_DIR_FAILED when a directory cannot be watched (nothing is left running then).
   */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    try {
      this.#lower.dir.start();
      this.#upper.dir.start();
    } catch (error) {
      this.#lower.dir.close();
      this.#upper.dir.close();
      throw error;
    }
    this.#queue.enqueue(() => this.#upper.list());
    this.#queue.enqueue(() => this.#lower.catchUp());
    await this.#db?.start();
    // Not awaited: a daemon that hangs would hold up the start for its timeout; its health says how it is doing.
    void this.#daemon?.start();
    await this.#queue.idle();
  }

  /** Processes pending changes now instead of after the debounce, and resolves when all are processed. */
  async flush(): Promise<void> {
    this.#lower.dir.flush();
    this.#upper.dir.flush();
    this.#db?.flush();
    await this.#queue.idle();
  }

  /** Resolves when every batch handed over so far is processed (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#queue.idle();
  }

  /** Whether each watch sees its target now: the lower store dir, the upper layer, the lower DB's directory or daemon. */
  health(): WatcherHealth[] {
    return [
      this.#lower.dir.health,
      this.#upper.dir.health,
      ...(this.#db === undefined ? [] : [this.#db.health]),
      ...(this.#daemon === undefined ? [] : [this.#daemon.health]),
    ];
  }

  /** The lower daemon's state for `status`; undefined when the lower store is no daemon. */
  daemonStatus(): LowerDaemonStatus | undefined {
    return this.#daemon?.status();
  }

  /**
   * The lower store as the watcher knows it now, as a baseline to save (e.g. at shutdown). Its `dirStamp` is null
   * (changes may be pending), so a watcher started from it resynchronises with one full listing.
   */
  currentBaseline(): LowerBaseline {
    return {
      realStoreDir: this.#o.lowerStoreDir,
      createdAt: this.#o.now().toISOString(),
      db: this.#db === undefined ? this.#o.baseline.db : this.#db.identity,
      ...(this.#daemon === undefined ? {} : { daemon: this.#daemon.identity }),
      entries: this.#lower.snapshot(),
      dirStamp: null,
    };
  }

  /** Stops every watch; batches being processed finish first. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.close();
    this.#lower.dir.close();
    this.#upper.dir.close();
    await this.#db?.close();
    await this.#daemon?.close();
    await this.#queue.idle();
  }
}
