/**
 * Opens the upper Nix DB and the lower store's metadata (its DB, or its nix-daemon) of a layout read-only (nothing
 * created beside them), checks the DBs' indexes, reads again when Nix wrote them meanwhile.
 */
import { finding, type Finding } from '../findings/index.ts';
import {
  emptyNixDb,
  INTEGRITY_PRAGMA,
  NIX_DB_OPEN_ATTEMPTS,
  openLowerMetadata,
  openNixDb,
  type IntegrityProbe,
  type LowerMetadata,
  type LowerMetadataOptions,
  type NixDb,
  NixDbError,
  type StoreLayout,
} from '../store/index.ts';
import { AuditError } from './audit-error.ts';
import { checkIntegrityOffThread } from './audit-thread.ts';

export interface AuditDbs {
  readonly upper: NixDb;
  /** The lower store's metadata, from its DB or its daemon. */
  readonly lower: LowerMetadata;
  /** The lower DB when the metadata comes from one (undefined for a daemon): what only a DB has (its file, integrity checks). */
  readonly lowerDb: NixDb | undefined;
  /** True when either was read as a snapshot that Nix has written since (NixDb.changedSinceOpen). */
  changedSinceOpen(): boolean;
  /** Throws NixDbError NIX_DB_CHANGED when either changed since it was opened. */
  assertUnchanged(action: string): void;
  /** Closes both; idempotent. */
  close(): void;
}

/**
 * The integrity checks of each DB (see IntegrityProbe for what each costs and catches). ValidPaths' index on `path`
 * is how Nix finds a registered path; Refs' IndexReference is how the overlay store's GC finds referrers. `audit`
 * checks the upper DB's ValidPaths: that DB is the one Nix keeps writing (and crashes or runs out of space while
 * writing); on a thread of its own it adds 1.3 s of CPU for 550,000 paths to a 6 s audit, while the lower DB's
 * (3.6 s for 1,000,000 paths, mostly reads of 4 KiB pages) would add more than the audit's budget allows. `verify`,
 * which hashes every object and so takes far longer, also checks the upper DB's Refs (2.5 times ValidPaths' cost)
 * and the lower DB's ValidPaths; given paths, just ValidPaths of both, the index those paths are looked up by.
 */
export const DB_INTEGRITY_PROBES = {
  audit: { upper: ['ValidPaths'], lower: [] },
  verify: { upper: ['ValidPaths', 'Refs'], lower: ['ValidPaths'] },
  verifyPaths: { upper: ['ValidPaths'], lower: ['ValidPaths'] },
} as const satisfies Record<string, Record<'upper' | 'lower', readonly IntegrityProbe[]>>;

/**
 * Opens the upper DB and the lower metadata (openLowerMetadata: the lower DB, or a snapshot read from its daemon),
 * read-only and creating nothing beside them (see NixDbOpenMode). The upper one may be written by Nix meanwhile; the
 * lower DB is opened with SQLite's `immutable=1` when the lower store URL has `read-only=true`, as Nix does. A
 * missing upper DB (an overlay store Nix has not used yet) is an empty one: nothing to audit. `lowerOptions` narrow
 * what is read from a daemon (given paths, a chunk of rows); a DB opens whole.
 * @throws AuditError AUDIT_NO_LOWER_DB when the lower store has neither a DB file nor a daemon socket;
 *   NixDbError (NIX_DB_MISSING, NIX_DB_LOCKED, …) when a DB cannot be opened; DaemonError when its daemon cannot be read.
 */
export async function openAuditDbs(layout: StoreLayout, lowerOptions: LowerMetadataOptions = {}): Promise<AuditDbs> {
  if (layout.lower.db === undefined && layout.lower.daemonSocket === undefined) {
    throw new AuditError('AUDIT_NO_LOWER_DB', `the lower store (${layout.lower.url || 'auto'}) has no DB file overlay-warden can read, and no daemon socket`, {
      evidence: { lowerStore: layout.lower.url, kind: layout.lower.kind },
      hint: 'give the lower store as a local store path (lower-store=/path/to/root?read-only=true) or as its daemon socket (unix:///path/to/socket?real=/path/to/store)',
    });
  }
  const upper = openUpperDb(layout);
  let lower: LowerMetadata;
  let lowerDb: NixDb | undefined;
  try {
    // A daemon that does not list its paths is asked about the upper layer's entries too (see loadDaemonSnapshot).
    ({ metadata: lower, db: lowerDb } = await openLowerMetadata(layout.lower, { alsoCandidates: [layout.upperLayer], ...lowerOptions }));
  } catch (error) {
    upper.close();
    throw error;
  }
  return {
    upper,
    lower,
    lowerDb,
    changedSinceOpen: () => upper.changedSinceOpen() || lower.changedSinceOpen(),
    assertUnchanged(action) {
      upper.assertUnchanged(action);
      lower.assertUnchanged(action);
    },
    close() {
      upper.close();
      lower.close();
    },
  };
}

/**
 * Runs `run` on both DBs, opened by openAuditDbs and closed after. `run` calls `dbs.assertUnchanged` once the reads
 * its result rests on are done. When Nix wrote a DB that was read as a snapshot meanwhile (NIX_DB_CHANGED, or
 * anything `run` threw while it did), what was read may mix two states, so the whole run is done again, at most
 * NIX_DB_OPEN_ATTEMPTS times; by then Nix usually has its `-wal` there, and the DB is read through SQLite's locks.
 * Nothing is done again once `signal` stopped the run.
 */
export async function withAuditDbs<T>(
  layout: StoreLayout,
  signal: AbortSignal,
  run: (dbs: AuditDbs) => Promise<T>,
  lowerOptions: Omit<LowerMetadataOptions, 'signal'> = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const dbs = await openAuditDbs(layout, { ...lowerOptions, signal });
    try {
      return await run(dbs);
    } catch (error) {
      if (signal.aborted || !dbs.changedSinceOpen() || attempt >= NIX_DB_OPEN_ATTEMPTS) throw error;
    } finally {
      dbs.close();
    }
  }
}

/**
 * Runs the integrity checks `probes` names for each DB on a thread of its own (see checkIntegrityOffThread: they take
 * seconds on a big DB and must not hold up the run or its interruption); resolves with their `store.db-corrupt`
 * findings. A DB that does not exist yet (the upper DB of an unused overlay store) is not checked, nor lower metadata
 * read from a daemon (no DB file here: its checks are not computed).
 */
export async function checkDbIntegrity(
  dbs: AuditDbs,
  probes: Readonly<Record<'upper' | 'lower', readonly IntegrityProbe[]>>,
  signal: AbortSignal,
): Promise<Finding[]> {
  const sides = [
    { db: dbs.upper, side: 'upper' as const },
    { db: dbs.lowerDb, side: 'lower' as const },
  ];
  const requests = sides
    .flatMap(({ db, side }) => (db === undefined || db.mode === 'absent' || probes[side].length === 0 ? [] : [{ db, side }]))
    .map(({ db, side }) => ({ file: db.file, storeDir: db.storeDir, immutable: db.mode === 'immutable', side, probes: probes[side] }));
  const results = await checkIntegrityOffThread(requests, signal);
  return results.flatMap(({ file, side, probe, problems }) => dbCorruptFindings(file, side, probe, problems));
}

/** The `store.db-corrupt` finding for what one integrity probe of a DB found, or none when it found nothing (pure). */
export function dbCorruptFindings(file: string, side: 'upper' | 'lower', probe: IntegrityProbe, problems: readonly string[]): Finding[] {
  if (problems.length === 0) return [];
  const what = probe === 'quick' ? 'its pages' : `${probe} and its indexes`;
  return [
    finding(
      'store.db-corrupt',
      'error',
      `the ${side} DB ${file} fails SQLite's integrity check of ${what}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; Nix looks paths up through these indexes, so it can call a registered path invalid or miss a path's referrers`,
      { path: file, db: side, pragma: INTEGRITY_PRAGMA[probe], problems },
      `stop Nix and back up the DB directory; an index that disagrees with its table is rebuilt with sqlite3 '${file}' 'REINDEX', damaged pages need sqlite3 '${file}' .recover (or a backup)`,
    ),
  ];
}

/** The upper DB read-only; a missing one (an overlay store Nix has not used yet) is an empty one. @throws NixDbError. */
export function openUpperDb(layout: StoreLayout): NixDb {
  try {
    return openNixDb(layout.upperDb, { storeDir: layout.storeDir });
  } catch (error) {
    if (error instanceof NixDbError && error.code === 'NIX_DB_MISSING') return emptyNixDb(layout.upperDb, layout.storeDir);
    throw error;
  }
}
