/** What changed in the lower store while the agent was down: the lower store now against the saved baseline. */
import { diffLowerBaselines, readLowerDaemonIdentity, refreshLowerBaseline, type LowerBaseline, type LowerDaemonIdentity } from '../baseline/index.ts';
import { messageOf } from '../errors/index.ts';
import { connectDaemon, DaemonError } from '../store/index.ts';
import { upperDbClosureLookup, type UpperClosureLookup } from './broken-closures.ts';
import type { DriftEvent } from './drift-events.ts';
import { lowerDbEvent, lowerShrankEvent } from './event-builders.ts';
import { WatchError } from './watch-errors.ts';

/** The parts of the store layout drift detection reads (a Config's `layout` fits). */
export interface DriftLayout {
  /** The logical store dir event paths are named under. */
  readonly storeDir: string;
  readonly upperLayer: string;
  readonly upperDb: string;
  readonly lower: {
    readonly realStoreDir: string;
    readonly db: string | undefined;
    /** The nix-daemon socket of a daemon lower store (its metadata comes from there), else undefined. */
    readonly daemonSocket?: string | undefined;
    /** The lower store's logical store dir (the daemon's paths are under it). */
    readonly storeDir?: string;
  };
}

export interface StartupDriftOptions {
  /** Default: the upper DB of the layout, read-only. */
  readonly closures?: UpperClosureLookup;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Reads a daemon lower store's identity (tests inject). Default: connect, one QueryAllValidPaths, disconnect. */
  readonly readDaemon?: (socket: string, storeDir: string, signal: AbortSignal | undefined) => Promise<LowerDaemonIdentity>;
  /** Connect and request timeout of the default readDaemon (config `watch.daemonTimeoutMs`). */
  readonly daemonTimeoutMs?: number;
}

export interface StartupDriftResult {
  /**
   * lower-grew, lower-shrank (with broken upper closures), lower-db-replaced, lower-db-modified or
   * lower-daemon-modified; source `startup`.
   */
  readonly events: readonly DriftEvent[];
  /** The lower store as it is now: save it as the new baseline once the events are handled, and hand it to the LayerWatcher. */
  readonly current: LowerBaseline;
  /** Problems that did not stop the diff (the upper DB unreadable: closures unknown; the lower daemon unavailable). */
  readonly errors: readonly WatchError[];
  /** There was no baseline: nothing to compare, `current` is the first one. */
  readonly firstRun: boolean;
  /**
   * The store dir was listed. False when its stamp proved nothing was added or removed since the baseline (see
   * refreshLowerBaseline): then `current` reuses the baseline's entries, and there is nothing new to save unless
   * the DB changed.
   */
  readonly listed: boolean;
}

/**
 * Diffs the lower store now against `baseline` (undefined on a first run, or after a corrupt baseline was set
 * aside). This is how a Qubes AppVM learns at boot that its template's /nix changed. Modifications inside store
 * objects are not seen here (only which objects exist, and the DB's identity): that is the audit's `verify`.
 * Cost at a million entries: ≈1–2 s and < 200 MB peak RSS (bench/agent.ts); one stat when the store dir's stamp
 * shows no entry changed. A daemon lower store is asked for its valid paths (its identity); when it cannot be, the
 * baseline's identity is carried over, so the change is found once it answers (WATCH_DAEMON_UNAVAILABLE in `errors`).
 * @throws BaselineError BASELINE_SCAN_FAILED or BASELINE_DB_UNREADABLE when the lower store cannot be read; rejects
 *   with `signal.reason` when aborted.
 */
export async function startupDrift(
  config: { readonly layout: DriftLayout },
  baseline: LowerBaseline | undefined,
  options: StartupDriftOptions = {},
): Promise<StartupDriftResult> {
  const { layout } = config;
  const refreshed = await refreshLowerBaseline(layout.lower, baseline, {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const { listed } = refreshed;
  const errors: WatchError[] = [];
  let current = refreshed.baseline;
  const socket = layout.lower.daemonSocket;
  if (socket !== undefined) {
    const read = await daemonIdentityAtStart(socket, layout.lower.storeDir ?? layout.storeDir, options);
    if (read instanceof WatchError) errors.push(read);
    current = { ...current, daemon: read instanceof WatchError ? (baseline?.daemon ?? null) : read };
  }
  if (baseline === undefined) return { events: [], current, errors, firstRun: true, listed };
  const at = current.createdAt;
  const drift = diffLowerBaselines(baseline, current);
  const events: DriftEvent[] = [];
  if (drift.added.length > 0) events.push({ type: 'lower-grew', source: 'startup', at, paths: drift.added.map((name) => `${layout.storeDir}/${name}`).sort() });
  if (drift.removed.length > 0) {
    const closures = options.closures ?? upperDbClosureLookup(layout.upperDb, layout.storeDir);
    const { event, error } = lowerShrankEvent(drift.removed, {
      storeDir: layout.storeDir,
      upperLayer: layout.upperLayer,
      upperDb: layout.upperDb,
      closures,
      source: 'startup',
      at,
    });
    events.push(event);
    if (error !== undefined) errors.push(error);
  }
  const dbEvent = lowerDbEvent(baseline.db, current.db, 'restart', 'startup', at);
  if (dbEvent !== undefined) events.push(dbEvent);
  if (drift.daemon === 'modified') events.push({ type: 'lower-daemon-modified', source: 'startup', at, before: baseline.daemon!, after: current.daemon! });
  return { events, current, errors, firstRun: false, listed };
}

/** The daemon's identity now, or the WatchError saying why it could not be read. Never throws. */
async function daemonIdentityAtStart(socket: string, storeDir: string, options: StartupDriftOptions): Promise<LowerDaemonIdentity | WatchError> {
  const read =
    options.readDaemon ??
    (async (s: string, dir: string, signal: AbortSignal | undefined): Promise<LowerDaemonIdentity> => {
      const timeouts = options.daemonTimeoutMs === undefined ? {} : { connectTimeoutMs: options.daemonTimeoutMs, timeoutMs: options.daemonTimeoutMs };
      const client = await connectDaemon(s, { storeDir: dir, ...timeouts, ...(signal === undefined ? {} : { signal }) });
      try {
        return await readLowerDaemonIdentity(client);
      } finally {
        client.close();
      }
    });
  try {
    return await read(socket, storeDir, options.signal);
  } catch (cause) {
    const code = cause instanceof DaemonError ? cause.code : undefined;
    return new WatchError('WATCH_DAEMON_UNAVAILABLE', `cannot read the valid paths of the lower nix-daemon ${socket} at start: ${messageOf(cause)}`, {
      cause,
      evidence: { socket, daemonError: code },
      hint: 'start the nix-daemon serving the lower store; the agent reconnects and reports what changed meanwhile',
    });
  }
}
