/** Watches the lower store dir's top level: `lower-grew`, `lower-shrank` (with the upper closures it breaks), `lower-path-modified`. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { diffEntrySets, dirUnchangedSince, readDirStamp, type EntrySet, type DirStamp } from '../baseline/index.ts';
import { isValidStorePathName } from '../store/index.ts';
import type { UpperClosureLookup } from './broken-closures.ts';
import { lowerShrankEvent } from './event-builders.ts';
import { classifyLowerChanges, type LowerObservation } from './layer-changes.ts';
import { listToResync, STAT_CHUNK, type LayerWatchContext } from './layer-watch-context.ts';
import { LiveEntryIndex } from './live-entry-index.ts';
import type { TopLevelWatcher, DirBatch } from './top-level-watcher.ts';

export interface LowerDirWatcherOptions {
  /** The lower store dir (the overlay's lowerdir). */
  readonly lowerStoreDir: string;
  /** Its entries as last known (the baseline's). */
  readonly entries: EntrySet;
  /** When `entries` were listed; null when changes may have been missed since (see catchUp). */
  readonly dirStamp: DirStamp | null;
  /** For `lower-shrank`: the upper layer, the upper DB, and the closures a vanished lower path breaks. */
  readonly upperLayer: string;
  readonly upperDb: string;
  readonly closures: UpperClosureLookup;
}

/**
 * One `fs.watch` of the lower store dir (one inotify watch, whatever its size). Each batch's names are stat-ed and
 * compared with the index of what the dir held; an overflowing batch is resolved by a full listing.
 */
export class LowerDirWatcher {
  readonly #context: LayerWatchContext;
  readonly #o: LowerDirWatcherOptions;
  readonly #index: LiveEntryIndex;
  /** The watch of the directory: `start()`, `flush()`, `health` (for `status`), `close()` (idempotent). */
  readonly dir: TopLevelWatcher;

  constructor(context: LayerWatchContext, options: LowerDirWatcherOptions) {
    this.#context = context;
    this.#o = Object.freeze({ ...options });
    this.#index = new LiveEntryIndex(options.entries);
    this.dir = context.watchDir(options.lowerStoreDir, 'lower-store-dir', (batch) => this.#onBatch(batch));
  }

  /**
   * Checks that nothing changed in the dir between the listing of `entries` and the start of the watch (by its
   * stamp); if something may have, a full listing finds what was missed. Run it in the queue, once started.
   * @throws WatchError WATCH_SCAN_FAILED when the dir cannot be listed.
   */
  async catchUp(): Promise<void> {
    let unchanged = false;
    try {
      unchanged = this.#o.dirStamp !== null && dirUnchangedSince(this.#o.dirStamp, readDirStamp(this.#o.lowerStoreDir), 'live');
    } catch {
      // Cannot stat it: list it, which reports why.
    }
    if (!unchanged) await this.#rescan();
  }

  /** The entries as the watcher knows them now. */
  snapshot(): EntrySet {
    return this.#index.snapshot();
  }

  async #onBatch(batch: DirBatch): Promise<void> {
    if (batch.overflow) return this.#rescan();
    const observations: LowerObservation[] = [];
    let n = 0;
    for (const [name, seen] of batch.names) {
      if (!isValidStorePathName(name)) continue;
      const now = this.#context.entryOf(this.#o.lowerStoreDir, name);
      if (now === undefined) continue;
      observations.push({
        name,
        before: this.#index.has(name),
        now: now.state === 'object',
        directory: now.directory,
        rename: seen.rename,
        change: seen.change,
      });
      if (++n % STAT_CHUNK === 0) await yieldToEventLoop();
    }
    const { grew, shrank, modified } = classifyLowerChanges(observations);
    this.#emit(grew, shrank);
    for (const { name, detail } of modified) this.#context.emit({ type: 'lower-path-modified', path: this.#context.pathOf(name), detail });
  }

  async #rescan(): Promise<void> {
    const dir = this.#o.lowerStoreDir;
    const scan = await listToResync(dir, `the lower store dir ${dir} to resynchronise`, this.#o.entries.count);
    const { added, removed } = diffEntrySets(this.#index.snapshot(), scan.entries);
    this.#index.reset(scan.entries);
    this.#emit([...added].sort(), [...removed].sort(), false);
  }

  /** Emits lower-shrank then lower-grew, updating the index unless told not to. */
  #emit(grew: readonly string[], shrank: readonly string[], update = true): void {
    if (update) {
      for (const name of grew) this.#index.add(name);
      for (const name of shrank) this.#index.delete(name);
    }
    if (shrank.length > 0) {
      const { upperLayer, upperDb, closures } = this.#o;
      const { event, error } = lowerShrankEvent(shrank, {
        storeDir: this.#context.storeDir,
        upperLayer,
        upperDb,
        closures,
        source: 'watch',
        at: this.#context.at(),
      });
      if (error !== undefined) this.#context.emitError(error);
      this.#context.emitDrift(event);
    }
    if (grew.length > 0) this.#context.emit({ type: 'lower-grew', paths: grew.map((name) => this.#context.pathOf(name)) });
  }
}
