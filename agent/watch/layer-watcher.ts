/** Watches the lower store dir, the lower DB and the upper layer's top level, and turns changes into drift events. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { LowerBaseline } from '../baseline/lower-baseline.ts';
import { diffEntrySets } from '../baseline/entry-diff.ts';
import { dirUnchangedSince, readDirStamp } from '../baseline/dir-stamp.ts';
import { scanStoreDir } from '../baseline/scan-store-dir.ts';
import { errnoCode, messageOf } from '../errors/index.ts';
import { isValidStorePathName } from '../store/store-path.ts';
import { upperDbClosureLookup, type UpperClosureLookup } from './broken-closures.ts';
import { LowerDbWatcher } from './db-watcher.ts';
import { DriftEmitter } from './drift-emitter.ts';
import type { DriftEvent, DriftEventBody } from './drift-events.ts';
import { lowerShrankEvent } from './event-builders.ts';
import { classifyLowerChanges, classifyUpperChanges, type LowerObservation, type UpperChange, type UpperObservation, type UpperState } from './layer-changes.ts';
import { layerEntry, type LayerEntry } from './layer-entry.ts';
import { LiveEntryIndex } from './live-entry-index.ts';
import type { DriftLayout } from './startup-drift.ts';
import { TopLevelWatcher, type DirBatch } from './top-level-watcher.ts';
import { WatchError } from './watch-errors.ts';

export interface LayerWatcherOptions {
  /** The logical store dir event paths are named under. */
  readonly storeDir: string;
  /** The lower store dir (the overlay's lowerdir). */
  readonly lowerStoreDir: string;
  /** The lower DB file; undefined for a daemon lower store (no DB watch). */
  readonly lowerDb: string | undefined;
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
  /** Keep the process alive while watching (default true). */
  readonly persistent?: boolean;
  readonly now?: () => Date;
}

/** Options for a LayerWatcher from a configuration (its `layout` and `watch` settings) and the current baseline. */
export function layerWatcherOptionsOf(config: { readonly layout: DriftLayout; readonly watch: { readonly debounceMs: number } }, baseline: LowerBaseline): LayerWatcherOptions {
  const { layout } = config;
  return {
    storeDir: layout.storeDir,
    lowerStoreDir: layout.lower.realStoreDir,
    lowerDb: layout.lower.db,
    upperLayer: layout.upperLayer,
    upperDb: layout.upperDb,
    debounceMs: config.watch.debounceMs,
    baseline,
  };
}

/** Names stat-ed between two yields to the event loop. */
const STAT_CHUNK = 512;

/**
 * The live half of drift detection. Three watches, none recursive:
 * - the lower store dir: one `fs.watch` (one inotify watch, whatever its size) → `lower-grew`, `lower-shrank`
 *   (with the upper closures it breaks), `lower-path-modified` (top-level entries only);
 * - the lower DB: chokidar on its directory (LowerDbWatcher) → `lower-db-replaced`, `lower-db-modified`;
 * - the upper layer: one `fs.watch` → `upper-path-added`, `upper-path-deleted` (with `alsoInLower`: a direct
 *   deletion of a path the lower has leaves a stale view), `upper-whiteout-added`.
 * Events are debounced per directory, then each name is stat-ed and compared with what was known, so a path created
 * and deleted within one window is no event, and event kinds (inotify's create/delete/move) are never trusted alone.
 * Batches are processed one at a time, in order. A burst beyond `maxBatchNames` (or an inotify overflow) is
 * resolved by a full listing instead. Nix lock files (`<path>.lock`) and non-store names (`.links`) are ignored.
 */
export class LayerWatcher extends DriftEmitter {
  readonly #o: Required<Omit<LayerWatcherOptions, 'closures'>> & { closures: UpperClosureLookup };
  readonly #lower: LiveEntryIndex;
  readonly #upper = new LiveEntryIndex();
  readonly #upperWhiteouts = new Set<string>();
  readonly #lowerWatch: TopLevelWatcher;
  readonly #upperWatch: TopLevelWatcher;
  readonly #db: LowerDbWatcher | undefined;
  #queue: Promise<void> = Promise.resolve();
  #started = false;
  #closed = false;

  constructor(options: LayerWatcherOptions) {
    super();
    this.#o = Object.freeze({
      ...options,
      closures: options.closures ?? upperDbClosureLookup(options.upperDb, options.storeDir),
      maxBatchNames: options.maxBatchNames ?? 10_000,
      persistent: options.persistent ?? true,
      now: options.now ?? (() => new Date()),
    });
    this.#lower = new LiveEntryIndex(options.baseline.entries);
    const common = { debounceMs: options.debounceMs, maxNames: this.#o.maxBatchNames, persistent: this.#o.persistent, onError: (e: WatchError) => this.emitError(e) };
    this.#lowerWatch = new TopLevelWatcher(options.lowerStoreDir, { ...common, onBatch: (batch) => this.#enqueue(() => this.#onLowerBatch(batch)) });
    this.#upperWatch = new TopLevelWatcher(options.upperLayer, { ...common, onBatch: (batch) => this.#enqueue(() => this.#onUpperBatch(batch)) });
    if (options.lowerDb !== undefined) {
      this.#db = new LowerDbWatcher({ db: options.lowerDb, debounceMs: options.debounceMs, initial: options.baseline.db, persistent: this.#o.persistent, now: this.#o.now });
      this.#db.on('drift', (event) => this.emitDrift(event));
      this.#db.on('error', (error) => this.emitError(error));
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
      this.#lowerWatch.start();
      this.#upperWatch.start();
    } catch (error) {
      this.#lowerWatch.close();
      this.#upperWatch.close();
      throw error;
    }
    this.#enqueue(() => this.#scanUpper(false));
    const stamp = this.#o.baseline.dirStamp;
    this.#enqueue(async () => {
      let unchanged = false;
      try {
        unchanged = stamp !== null && dirUnchangedSince(stamp, readDirStamp(this.#o.lowerStoreDir), 'live');
      } catch {
        // Cannot stat it: list it, which reports why.
      }
      if (!unchanged) await this.#rescanLower();
    });
    await this.#db?.start();
    await this.#queue;
  }

  /** Processes pending changes now instead of after the debounce, and resolves when all are processed. */
  async flush(): Promise<void> {
    this.#lowerWatch.flush();
    this.#upperWatch.flush();
    this.#db?.flush();
    await this.#queue;
  }

  /** Resolves when every batch handed over so far is processed (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#queue;
  }

  /**
   * The lower store as the watcher knows it now, as a baseline to save (e.g. at shutdown). Its `dirStamp` is null
   * (changes may be pending), so a watcher started from it resynchronises with one full listing.
   */
  currentBaseline(): LowerBaseline {
    return { realStoreDir: this.#o.lowerStoreDir, createdAt: this.#o.now().toISOString(), db: this.#db === undefined ? this.#o.baseline.db : this.#db.identity, entries: this.#lower.snapshot(), dirStamp: null };
  }

  /** Stops every watch; batches being processed finish first. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#lowerWatch.close();
    this.#upperWatch.close();
    await this.#db?.close();
    await this.#queue;
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return;
      try {
        await task();
      } catch (cause) {
        this.emitError(cause instanceof WatchError ? cause : new WatchError('WATCH_SCAN_FAILED', `processing changes failed: ${messageOf(cause)}`, { cause }));
      }
    });
  }

  #event(event: DriftEventBody): DriftEvent {
    return { ...event, source: 'watch', at: this.#o.now().toISOString() } as DriftEvent;
  }

  async #onLowerBatch(batch: DirBatch): Promise<void> {
    if (batch.overflow) return this.#rescanLower();
    const observations: LowerObservation[] = [];
    let n = 0;
    for (const [name, seen] of batch.names) {
      if (!isValidStorePathName(name)) continue;
      const now = this.#entryOf(this.#o.lowerStoreDir, name);
      if (now === undefined) continue;
      observations.push({ name, before: this.#lower.has(name), now: now.state === 'object', directory: now.directory, rename: seen.rename, change: seen.change });
      if (++n % STAT_CHUNK === 0) await yieldToEventLoop();
    }
    const { grew, shrank, modified } = classifyLowerChanges(observations);
    this.#emitLower(grew, shrank);
    for (const { name, detail } of modified) this.emitDrift(this.#event({ type: 'lower-path-modified', path: this.#path(name), detail }));
  }

  async #rescanLower(): Promise<void> {
    let scan;
    try {
      scan = await scanStoreDir(this.#o.lowerStoreDir, { expectedCount: this.#o.baseline.entries.count });
    } catch (cause) {
      throw new WatchError('WATCH_SCAN_FAILED', `cannot list the lower store dir ${this.#o.lowerStoreDir} to resynchronise: ${errnoCode(cause) ?? messageOf(cause)}`, { cause, evidence: { dir: this.#o.lowerStoreDir } });
    }
    const { added, removed } = diffEntrySets(this.#lower.snapshot(), scan.entries);
    this.#lower.reset(scan.entries);
    this.#emitLower([...added].sort(), [...removed].sort(), false);
  }

  /** Emits lower-shrank then lower-grew, updating the index. */
  #emitLower(grew: readonly string[], shrank: readonly string[], update = true): void {
    if (update) {
      for (const name of grew) this.#lower.add(name);
      for (const name of shrank) this.#lower.delete(name);
    }
    if (shrank.length > 0) {
      const at = this.#o.now().toISOString();
      const { event, error } = lowerShrankEvent(shrank, { storeDir: this.#o.storeDir, upperLayer: this.#o.upperLayer, upperDb: this.#o.upperDb, closures: this.#o.closures, source: 'watch', at });
      if (error !== undefined) this.emitError(error);
      this.emitDrift(event);
    }
    if (grew.length > 0) this.emitDrift(this.#event({ type: 'lower-grew', paths: grew.map((name) => this.#path(name)) }));
  }

  async #onUpperBatch(batch: DirBatch): Promise<void> {
    if (batch.overflow) return this.#scanUpper(true);
    const observations: UpperObservation[] = [];
    let n = 0;
    for (const name of batch.names.keys()) {
      if (!isValidStorePathName(name)) continue;
      const now = this.#stateOf(this.#o.upperLayer, name);
      if (now === undefined) continue;
      const before = this.#upperStateOf(name);
      if (before === now) continue;
      observations.push({ name, before, now, inLower: this.#stateOf(this.#o.lowerStoreDir, name) === 'object' });
      if (++n % STAT_CHUNK === 0) await yieldToEventLoop();
    }
    this.#applyUpper(classifyUpperChanges(observations));
  }

  /** Lists the upper layer; with `report`, emits what changed since the index (after an overflow). */
  async #scanUpper(report: boolean): Promise<void> {
    let scan;
    try {
      scan = await scanStoreDir(this.#o.upperLayer);
    } catch (cause) {
      throw new WatchError('WATCH_SCAN_FAILED', `cannot list the upper layer ${this.#o.upperLayer}: ${errnoCode(cause) ?? messageOf(cause)}`, { cause, evidence: { dir: this.#o.upperLayer } });
    }
    if (report) {
      const observations: UpperObservation[] = [];
      const whiteouts = new Set(scan.whiteouts);
      const diff = diffEntrySets(this.#upper.snapshot(), scan.entries);
      const added = new Set(diff.added);
      const removed = new Set(diff.removed);
      const inLower = (name: string): boolean => this.#stateOf(this.#o.lowerStoreDir, name) === 'object';
      for (const name of added) observations.push({ name, before: this.#upperWhiteouts.has(name) ? 'whiteout' : 'absent', now: 'object', inLower: inLower(name) });
      for (const name of removed) observations.push({ name, before: 'object', now: whiteouts.has(name) ? 'whiteout' : 'absent', inLower: inLower(name) });
      for (const name of whiteouts) if (!this.#upperWhiteouts.has(name) && !removed.has(name)) observations.push({ name, before: 'absent', now: 'whiteout', inLower: inLower(name) });
      for (const name of this.#upperWhiteouts) if (!whiteouts.has(name) && !added.has(name)) observations.push({ name, before: 'whiteout', now: 'absent', inLower: inLower(name) });
      this.#emitUpper(classifyUpperChanges(observations));
    }
    this.#upper.reset(scan.entries);
    this.#upperWhiteouts.clear();
    for (const name of scan.whiteouts) this.#upperWhiteouts.add(name);
  }

  #applyUpper(changes: readonly UpperChange[]): void {
    for (const change of changes) {
      this.#upperWhiteouts.delete(change.name);
      if (change.kind === 'added') this.#upper.add(change.name);
      else this.#upper.delete(change.name);
      if (change.kind === 'whiteout-added') this.#upperWhiteouts.add(change.name);
    }
    this.#emitUpper(changes);
  }

  #emitUpper(changes: readonly UpperChange[]): void {
    for (const change of changes) {
      const path = this.#path(change.name);
      if (change.kind === 'added') this.emitDrift(this.#event({ type: 'upper-path-added', path }));
      else if (change.kind === 'deleted') this.emitDrift(this.#event({ type: 'upper-path-deleted', path, alsoInLower: change.alsoInLower, entry: change.entry }));
      else this.emitDrift(this.#event({ type: 'upper-whiteout-added', path, masksLower: change.masksLower }));
    }
  }

  #upperStateOf(name: string): UpperState {
    if (this.#upperWhiteouts.has(name)) return 'whiteout';
    return this.#upper.has(name) ? 'object' : 'absent';
  }

  /** The state of `dir/name`, or undefined (after reporting WATCH_STAT_FAILED) when it cannot be stat-ed. */
  #stateOf(dir: string, name: string): UpperState | undefined {
    return this.#entryOf(dir, name)?.state;
  }

  #entryOf(dir: string, name: string): LayerEntry | undefined {
    try {
      return layerEntry(dir, name);
    } catch (cause) {
      this.emitError(new WatchError('WATCH_STAT_FAILED', `cannot stat ${dir}/${name}: ${errnoCode(cause) ?? messageOf(cause)}`, { cause, evidence: { path: `${dir}/${name}`, errno: errnoCode(cause) } }));
      return undefined;
    }
  }

  #path(name: string): string {
    return `${this.#o.storeDir}/${name}`;
  }
}
