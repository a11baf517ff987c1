/** Polls the mount table and reports changes at the merged store dir: unmounted, remounted, options changed, stacked. */
import { readFile } from 'node:fs/promises';
import { errnoCode, messageOf } from '../errors/index.ts';
import { parseMountinfo, MountTable } from '../mount/index.ts';
import { DriftEmitter } from './drift-emitter.ts';
import { diffMountViews, mountViewOf, type MountView } from './mount-view.ts';
import { WatcherHealthState, type WatcherHealth } from './watcher-health.ts';

export interface MountWatcherOptions {
  /** The mountinfo file (config `mountinfo`, normally /proc/self/mountinfo). */
  readonly mountinfo: string;
  /** The merged store dir (the overlay's mount point). */
  readonly mergedStoreDir: string;
  /** Poll period (config `watch.mountPollMs`). */
  readonly pollMs: number;
  /** Keep the process alive while watching (default true). */
  readonly persistent?: boolean;
  /** Reads the mountinfo file (tests inject fixtures). Default: fs.promises.readFile as UTF-8. */
  readonly readText?: (file: string) => Promise<string>;
  readonly now?: () => Date;
}

/** Options for a MountWatcher from a configuration (`mountinfo`, `watch.mountPollMs`, the layout's merged store dir). */
export function mountWatcherOptionsOf(config: {
  readonly mountinfo: string;
  readonly layout: { readonly mergedStoreDir: string };
  readonly watch: { readonly mountPollMs: number };
}): MountWatcherOptions {
  return { mountinfo: config.mountinfo, mergedStoreDir: config.layout.mergedStoreDir, pollMs: config.watch.mountPollMs };
}

/**
 * Watches the mount at the merged store dir by polling the mountinfo file every `pollMs`.
 *
 * Why polling: the kernel signals mount table changes on /proc/self/mountinfo with POLLPRI/POLLERR to poll(2), but
 * Node exposes no poll on arbitrary fds, and neither fs.watch (inotify) nor fs.watchFile (stat) sees anything on
 * procfs files (measured: no event for a mount and an unmount). A read and parse of a 20-line table costs ~50 µs, so
 * a 1 s poll is far below 0.1 % of a core. (`findmnt --poll` would wake on POLLPRI, at the cost of a child process.)
 *
 * Emits `mount-changed` drift events (see diffMountViews); nothing for the first view. A mount table that cannot be
 * read or parsed is `watcher-down` (reason `unreadable`) on `health`, once per streak of failed reads, and
 * `watcher-up` once it reads again (the next view is diffed against the last one seen).
 */
export class MountWatcher extends DriftEmitter {
  readonly #options: Required<Omit<MountWatcherOptions, 'persistent'>> & { persistent: boolean };
  #view: MountView | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  readonly #health: WatcherHealthState;
  #closed = false;

  constructor(options: MountWatcherOptions) {
    super();
    this.#options = Object.freeze({
      mountinfo: options.mountinfo,
      mergedStoreDir: options.mergedStoreDir,
      pollMs: options.pollMs,
      persistent: options.persistent ?? true,
      readText: options.readText ?? ((file: string) => readFile(file, 'utf8')),
      now: options.now ?? (() => new Date()),
    });
    this.#health = new WatcherHealthState('mount-table', options.mountinfo, this.#options.now, (event) => this.emitHealth(event));
  }

  /** Whether the mount table could be read at the last poll (for `status`). */
  get health(): WatcherHealth {
    return this.#health.current;
  }

  /** The view at the last successful poll, undefined before one succeeded. */
  get view(): MountView | undefined {
    return this.#view;
  }

  /** Takes the first view and starts polling. Resolves once the first poll is done (even if it failed). */
  async start(): Promise<void> {
    if (this.#closed || this.#timer !== undefined) return;
    await this.poll();
    this.#schedule();
  }

  /** Polls now (also between timer ticks, e.g. right after a remount); concurrent calls share one read. */
  poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  /** Stops polling. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.poll().then(() => this.#schedule()), this.#options.pollMs);
    if (!this.#options.persistent) this.#timer.unref();
  }

  async #pollOnce(): Promise<void> {
    let view: MountView;
    try {
      const text = await this.#options.readText(this.#options.mountinfo);
      view = mountViewOf(new MountTable(parseMountinfo(text).mounts), this.#options.mergedStoreDir);
    } catch (cause) {
      if (!this.#closed) this.#health.observe({ up: false, reason: 'unreadable', detail: errnoCode(cause) ?? messageOf(cause) });
      return;
    }
    this.#health.observe({ up: true });
    const before = this.#view;
    this.#view = view;
    if (before === undefined || this.#closed) return;
    const at = this.#options.now().toISOString();
    for (const change of diffMountViews(before, view)) this.emitDrift({ type: 'mount-changed', source: 'watch', at, ...change });
  }
}
