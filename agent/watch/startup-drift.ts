/** What changed in the lower store while the agent was down: the lower store now against the saved baseline. */
import { diffLowerBaselines, refreshLowerBaseline, type LowerBaseline } from '../baseline/index.ts';
import { upperDbClosureLookup, type UpperClosureLookup } from './broken-closures.ts';
import type { DriftEvent } from './drift-events.ts';
import { lowerDbEvent, lowerShrankEvent } from './event-builders.ts';
import type { WatchError } from './watch-errors.ts';

/** The parts of the store layout drift detection reads (a Config's `layout` fits). */
export interface DriftLayout {
  /** The logical store dir event paths are named under. */
  readonly storeDir: string;
  readonly upperLayer: string;
  readonly upperDb: string;
  readonly lower: { readonly realStoreDir: string; readonly db: string | undefined };
}

export interface StartupDriftOptions {
  /** Default: the upper DB of the layout, read-only. */
  readonly closures?: UpperClosureLookup;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export interface StartupDriftResult {
  /** lower-grew, lower-shrank (with broken upper closures), lower-db-replaced or lower-db-modified; source `startup`. */
  readonly events: readonly DriftEvent[];
  /** The lower store as it is now: save it as the new baseline once the events are handled, and hand it to the LayerWatcher. */
  readonly current: LowerBaseline;
  /** Problems that did not stop the diff (the upper DB unreadable: closures unknown). */
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
 * shows no entry changed.
 * @throws BaselineError BASELINE_SCAN_FAILED or BASELINE_DB_UNREADABLE when the lower store cannot be read; rejects
 *   with `signal.reason` when aborted.
 */
export async function startupDrift(
  config: { readonly layout: DriftLayout },
  baseline: LowerBaseline | undefined,
  options: StartupDriftOptions = {},
): Promise<StartupDriftResult> {
  const { layout } = config;
  const { baseline: current, listed } = await refreshLowerBaseline(layout.lower, baseline, {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  if (baseline === undefined) return { events: [], current, errors: [], firstRun: true, listed };
  const at = current.createdAt;
  const drift = diffLowerBaselines(baseline, current);
  const events: DriftEvent[] = [];
  const errors: WatchError[] = [];
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
  return { events, current, errors, firstRun: false, listed };
}
