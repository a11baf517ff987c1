/** The lower-store baseline: which store paths the lower store dir holds, and which lower DB it had; capture and diff. */
import { errnoCode, messageOf } from '../errors/index.ts';
import { BaselineError } from './baseline-errors.ts';
import { compareDaemonIdentity, type DaemonIdentityChange, type LowerDaemonIdentity } from './daemon-identity.ts';
import { compareDbIdentity, readLowerDbIdentity, type DbIdentityChange, type LowerDbIdentity } from './db-identity.ts';
import { diffEntrySets } from './entry-diff.ts';
import type { EntrySet } from './entry-set.ts';
import { dirUnchangedSince, readDirStamp, type DirStamp } from './dir-stamp.ts';
import { scanStoreDir } from './scan-store-dir.ts';

/** What overlay-warden last knew of the lower store. Persisted in the state dir (see baseline-file.ts). */
export interface LowerBaseline {
  /** The lower store dir it describes (the overlay lowerdir). */
  readonly realStoreDir: string;
  /** When it was captured (ISO 8601). */
  readonly createdAt: string;
  /** The lower DB's identity, or null when there is no DB file (a daemon store, or none yet). */
  readonly db: LowerDbIdentity | null;
  /**
   * For a daemon lower store, the daemon's identity as last read (null: never reached); absent for other lower
   * stores and in baselines saved before it was recorded. Captured by the start-up diff, not here (it needs the daemon).
   */
  readonly daemon?: LowerDaemonIdentity | null;
  /** The valid store path names at the top of the lower store dir (Nix lock files excluded). */
  readonly entries: EntrySet;
  /** The lower store dir's stamp taken before listing it (null when unknown). */
  readonly dirStamp: DirStamp | null;
}

/** The lower store's side of the store layout that a baseline needs. */
export interface LowerStoreRef {
  readonly realStoreDir: string;
  /** The lower DB file, undefined when metadata comes from a daemon. */
  readonly db: string | undefined;
}

export interface CaptureOptions {
  /** The previous baseline, if any: its size sizes the buffers once. */
  readonly previous?: LowerBaseline | undefined;
  readonly signal?: AbortSignal;
  /** The clock for `createdAt` (tests). */
  readonly now?: () => Date;
}

/**
 * Captures the baseline of `lower` now: lists its store dir (see scanStoreDir) and reads its DB identity.
 * A missing DB file is recorded as null.
 * @throws BaselineError BASELINE_SCAN_FAILED, BASELINE_DB_UNREADABLE (a stat error other than ENOENT); rejects
 *   with `signal.reason` when aborted.
 */
export async function captureLowerBaseline(lower: LowerStoreRef, options: CaptureOptions = {}): Promise<LowerBaseline> {
  const { previous, signal } = options;
  const scan = await scanStoreDir(lower.realStoreDir, {
    ...(previous === undefined ? {} : { expectedCount: previous.entries.count, expectedNameBytes: previous.entries.namesBytes }),
    ...(signal === undefined ? {} : { signal }),
  });
  return {
    realStoreDir: lower.realStoreDir,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    db: dbIdentityOf(lower),
    entries: scan.entries,
    dirStamp: scan.stamp,
  };
}

/**
 * The baseline of `lower` now, reusing `previous`'s entries without listing the store dir when its stamp proves no
 * entry was added, removed or renamed since (see dirUnchangedSince; device numbers are not compared, so this holds
 * across reboots): one stat instead of a million-entry listing, e.g. each time a Qubes AppVM boots on an unchanged
 * template. The DB identity is always read afresh. `listed` says which way it went.
 * @throws as captureLowerBaseline.
 */
export async function refreshLowerBaseline(
  lower: LowerStoreRef,
  previous: LowerBaseline | undefined,
  options: Omit<CaptureOptions, 'previous'> = {},
): Promise<{ baseline: LowerBaseline; listed: boolean }> {
  if (previous?.dirStamp != null && previous.realStoreDir === lower.realStoreDir) {
    let now: DirStamp | undefined;
    try {
      now = readDirStamp(lower.realStoreDir);
    } catch {
      // Listing reports the problem.
    }
    if (now !== undefined && dirUnchangedSince(previous.dirStamp, now, 'restart')) {
      return { baseline: { ...previous, createdAt: (options.now?.() ?? new Date()).toISOString(), db: dbIdentityOf(lower) }, listed: false };
    }
  }
  return { baseline: await captureLowerBaseline(lower, { ...options, previous }), listed: true };
}

function dbIdentityOf(lower: LowerStoreRef): LowerDbIdentity | null {
  if (lower.db === undefined) return null;
  try {
    return readLowerDbIdentity(lower.db);
  } catch (cause) {
    throw new BaselineError('BASELINE_DB_UNREADABLE', `cannot stat the lower DB ${lower.db}: ${errnoCode(cause) ?? messageOf(cause)}`, {
      cause,
      evidence: { file: lower.db, errno: errnoCode(cause) },
      hint: 'check that overlay-warden may read the lower store state dir',
    });
  }
}

/** How the lower store changed between two baselines. */
export interface LowerStoreDrift {
  /** Base names now present that were not (key order). */
  readonly added: readonly string[];
  /** Base names gone since (key order). */
  readonly removed: readonly string[];
  /** How the DB changed (st_dev ignored: it may change across reboots). */
  readonly db: DbIdentityChange;
  /** How the daemon's valid paths changed (`unknown` when either side has no daemon identity). */
  readonly daemon: DaemonIdentityChange;
}

/** The drift from `before` to `after`. Pure; O(entries), strings only for the differences. */
export function diffLowerBaselines(before: LowerBaseline, after: LowerBaseline): LowerStoreDrift {
  const { added, removed } = diffEntrySets(before.entries, after.entries);
  return { added, removed, db: compareDbIdentity(before.db, after.db, 'restart'), daemon: compareDaemonIdentity(before.daemon, after.daemon) };
}
