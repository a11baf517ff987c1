/** Watches the upper layer's top level: `upper-path-added`, `upper-path-deleted` (with `alsoInLower`), `upper-whiteout-added`. */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { diffEntrySets } from '../baseline/index.ts';
import { isValidStorePathName } from '../store/index.ts';
import { classifyUpperChanges, type UpperChange, type UpperObservation, type UpperState } from './layer-changes.ts';
import { listToResync, STAT_CHUNK, type LayerWatchContext } from './layer-watch-context.ts';
import { LiveEntryIndex } from './live-entry-index.ts';
import type { TopLevelWatcher, DirBatch } from './top-level-watcher.ts';

export interface UpperLayerWatcherOptions {
  readonly upperLayer: string;
  /** The lower store dir, stat-ed to tell whether a deleted upper path leaves a lower copy showing (a stale view). */
  readonly lowerStoreDir: string;
}

/**
 * One `fs.watch` of the upper layer. It starts knowing nothing: list() learns what the layer holds (to know what a
 * deletion deletes). Each batch's names are stat-ed and compared with what was known; an overflowing batch is
 * resolved by a full listing, reported as the changes since.
 */
export class UpperLayerWatcher {
  readonly #context: LayerWatchContext;
  readonly #o: UpperLayerWatcherOptions;
  readonly #objects = new LiveEntryIndex();
  readonly #whiteouts = new Set<string>();
  /** The watch of the directory: `start()`, `flush()`, `health` (for `status`), `close()` (idempotent). */
  readonly dir: TopLevelWatcher;

  constructor(context: LayerWatchContext, options: UpperLayerWatcherOptions) {
    this.#context = context;
    this.#o = Object.freeze({ ...options });
    this.dir = context.watchDir(options.upperLayer, 'upper-layer', (batch) => this.#onBatch(batch));
  }

  /**
   * Lists the layer, emitting nothing: what it holds becomes what is known. Run it in the queue, once started.
   * @throws WatchError WATCH_SCAN_FAILED when the layer cannot be listed.
   */
  async list(): Promise<void> {
    await this.#rescan(false);
  }

  async #onBatch(batch: DirBatch): Promise<void> {
    if (batch.overflow) return this.#rescan(true);
    const observations: UpperObservation[] = [];
    let n = 0;
    for (const name of batch.names.keys()) {
      if (!isValidStorePathName(name)) continue;
      const now = this.#context.stateOf(this.#o.upperLayer, name);
      if (now === undefined) continue;
      const before = this.#stateOf(name);
      if (before === now) continue;
      observations.push({ name, before, now, inLower: this.#inLower(name) });
      if (++n % STAT_CHUNK === 0) await yieldToEventLoop();
    }
    this.#apply(classifyUpperChanges(observations));
  }

  /** Lists the layer; with `report`, emits what changed since what was known (after an overflow). */
  async #rescan(report: boolean): Promise<void> {
    const scan = await listToResync(this.#o.upperLayer, `the upper layer ${this.#o.upperLayer}`);
    if (report) {
      const observations: UpperObservation[] = [];
      const whiteouts = new Set(scan.whiteouts);
      const diff = diffEntrySets(this.#objects.snapshot(), scan.entries);
      const added = new Set(diff.added);
      const removed = new Set(diff.removed);
      for (const name of added)
        observations.push({ name, before: this.#whiteouts.has(name) ? 'whiteout' : 'absent', now: 'object', inLower: this.#inLower(name) });
      for (const name of removed) observations.push({ name, before: 'object', now: whiteouts.has(name) ? 'whiteout' : 'absent', inLower: this.#inLower(name) });
      for (const name of whiteouts)
        if (!this.#whiteouts.has(name) && !removed.has(name)) observations.push({ name, before: 'absent', now: 'whiteout', inLower: this.#inLower(name) });
      for (const name of this.#whiteouts)
        if (!whiteouts.has(name) && !added.has(name)) observations.push({ name, before: 'whiteout', now: 'absent', inLower: this.#inLower(name) });
      this.#emit(classifyUpperChanges(observations));
    }
    this.#objects.reset(scan.entries);
    this.#whiteouts.clear();
    for (const name of scan.whiteouts) this.#whiteouts.add(name);
  }

  #apply(changes: readonly UpperChange[]): void {
    for (const change of changes) {
      this.#whiteouts.delete(change.name);
      if (change.kind === 'added') this.#objects.add(change.name);
      else this.#objects.delete(change.name);
      if (change.kind === 'whiteout-added') this.#whiteouts.add(change.name);
    }
    this.#emit(changes);
  }

  #emit(changes: readonly UpperChange[]): void {
    for (const change of changes) {
      const path = this.#context.pathOf(change.name);
      if (change.kind === 'added') this.#context.emit({ type: 'upper-path-added', path });
      else if (change.kind === 'deleted') this.#context.emit({ type: 'upper-path-deleted', path, alsoInLower: change.alsoInLower, entry: change.entry });
      else this.#context.emit({ type: 'upper-whiteout-added', path, masksLower: change.masksLower });
    }
  }

  #stateOf(name: string): UpperState {
    if (this.#whiteouts.has(name)) return 'whiteout';
    return this.#objects.has(name) ? 'object' : 'absent';
  }

  /** Whether the lower store dir holds `name` now (by lstat, not from the lower watcher's index). */
  #inLower(name: string): boolean {
    return this.#context.stateOf(this.#o.lowerStoreDir, name) === 'object';
  }
}
