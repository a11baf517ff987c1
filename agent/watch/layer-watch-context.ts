/** What the lower-dir and upper-layer watchers share: one queue of batches, one channel out, how entries are named and stat-ed. */
import { scanStoreDir, type StoreDirScan } from '../baseline/index.ts';
import { errnoCode, messageOf } from '../errors/index.ts';
import type { DriftEvent, DriftEventBody } from './drift-events.ts';
import type { UpperState } from './layer-changes.ts';
import { layerEntry, type LayerEntry } from './layer-entry.ts';
import type { SerialQueue } from './serial-queue.ts';
import { TopLevelWatcher, type DirBatch } from './top-level-watcher.ts';
import { WatchError } from './watch-errors.ts';
import type { WatcherHealthEvent, WatcherName } from './watcher-health.ts';

/** Names a watcher stats between two yields to the event loop. */
export const STAT_CHUNK = 512;

export interface LayerWatchContextOptions {
  /** The logical store dir event paths are named under. */
  readonly storeDir: string;
  /** Batches of both watchers go through this queue, one at a time, in order. */
  readonly queue: SerialQueue;
  readonly debounceMs: number;
  /** Names per batch above which a full listing replaces per-name checks. */
  readonly maxBatchNames: number;
  /** How often a watched directory is stat-ed to see it lost, and once lost to see it back. */
  readonly dirCheckMs: number;
  readonly persistent: boolean;
  readonly now: () => Date;
  readonly onDrift: (event: DriftEvent) => void;
  readonly onError: (error: WatchError) => void;
  readonly onHealth: (event: WatcherHealthEvent) => void;
}

/** The shared part of the two layer watchers; each watcher keeps its own index of what its directory holds. */
export class LayerWatchContext {
  readonly #o: LayerWatchContextOptions;

  constructor(options: LayerWatchContextOptions) {
    this.#o = Object.freeze({ ...options });
  }

  /** The logical store dir event paths are named under. */
  get storeDir(): string {
    return this.#o.storeDir;
  }

  /** A watch of `dir`'s top level, named `watcher`, whose batches are handled by `onBatch` in the shared queue. Not started. */
  watchDir(dir: string, watcher: WatcherName, onBatch: (batch: DirBatch) => Promise<void>): TopLevelWatcher {
    const { debounceMs, maxBatchNames: maxNames, dirCheckMs: checkMs, persistent, now, onError, onHealth, queue } = this.#o;
    return new TopLevelWatcher(dir, {
      watcher,
      debounceMs,
      maxNames,
      checkMs,
      persistent,
      now,
      onError,
      onHealth,
      onBatch: (batch) => queue.enqueue(() => onBatch(batch)),
    });
  }

  /** Emits `event` as seen by the watch, now. */
  emit(event: DriftEventBody): void {
    this.#o.onDrift({ ...event, source: 'watch', at: this.at() } as DriftEvent);
  }

  /** Emits an event built elsewhere (already stamped). */
  emitDrift(event: DriftEvent): void {
    this.#o.onDrift(event);
  }

  emitError(error: WatchError): void {
    this.#o.onError(error);
  }

  /** Now, as events stamp it. */
  at(): string {
    return this.#o.now().toISOString();
  }

  /** The store path of a top-level name. */
  pathOf(name: string): string {
    return `${this.#o.storeDir}/${name}`;
  }

  /** `dir/name` by lstat (see layerEntry), or undefined after reporting WATCH_STAT_FAILED when it cannot be stat-ed. */
  entryOf(dir: string, name: string): LayerEntry | undefined {
    try {
      return layerEntry(dir, name);
    } catch (cause) {
      this.#o.onError(
        new WatchError('WATCH_STAT_FAILED', `cannot stat ${dir}/${name}: ${errnoCode(cause) ?? messageOf(cause)}`, {
          cause,
          evidence: { path: `${dir}/${name}`, errno: errnoCode(cause) },
        }),
      );
      return undefined;
    }
  }

  /** The state of `dir/name`, or undefined (after reporting WATCH_STAT_FAILED) when it cannot be stat-ed. */
  stateOf(dir: string, name: string): UpperState | undefined {
    return this.entryOf(dir, name)?.state;
  }
}

/**
 * A full listing of `dir` to resynchronise from; `what` names it for people (`the upper layer /u`).
 * @throws WatchError WATCH_SCAN_FAILED (evidence: dir) when it cannot be listed.
 */
export async function listToResync(dir: string, what: string, expectedCount?: number): Promise<StoreDirScan> {
  try {
    return await scanStoreDir(dir, expectedCount === undefined ? {} : { expectedCount });
  } catch (cause) {
    throw new WatchError('WATCH_SCAN_FAILED', `cannot list ${what}: ${errnoCode(cause) ?? messageOf(cause)}`, { cause, evidence: { dir } });
  }
}
