/** SQLite's own consistency checks of a Nix DB, run on the reader's read-only connection: what each costs and catches. */
import type { DatabaseSync } from 'node:sqlite';
import { sqlitePrimaryCode, SQLITE_RESULT } from './nix-db-error.ts';

/**
 * Which check to run. Measured on this project's 2-core machine, warm cache, on a Nix-schema DB of 100,000 paths
 * and 500,000 references (63 MB): `quick` 90-110 ms, `ValidPaths` 190-240 ms, `Refs` 390-480 ms (the whole
 * `integrity_check` 690-770 ms); at 550,000 paths and 2.75 M references, 0.5-1.4 s, 1.4-3.7 s and 4.3-4.8 s.
 * - `quick`: `PRAGMA quick_check`, the whole DB: every page of every table and index is a well-formed b-tree page,
 *   records decode, NOT NULL holds. O(N). Blind to an index whose entries disagree with its table.
 * - `ValidPaths`, `Refs`: `PRAGMA integrity_check(TABLE)`: the same for the table and its indexes, and every row
 *   looked up in every index (O(N log N)). Nix finds a path by its row in ValidPaths' unique index on `path` (a
 *   broken entry: "path is not valid" for a registered path), and a path's referrers through Refs' IndexReference
 *   (a broken one: referrers missing, so GC deletes paths still in use); only this check sees either.
 */
export type IntegrityProbe = 'quick' | 'ValidPaths' | 'Refs';

/** The pragma each probe runs. */
export const INTEGRITY_PRAGMA: Readonly<Record<IntegrityProbe, string>> = {
  quick: 'pragma quick_check',
  ValidPaths: 'pragma integrity_check(ValidPaths)',
  Refs: 'pragma integrity_check(Refs)',
};

/** At most this many problems are kept (SQLite lists up to 100, one per broken row). */
export const MAX_INTEGRITY_PROBLEMS = 20;

/**
 * The problems SQLite reports (pure): its rows of text, one problem per line, without the `*** in database main ***`
 * heading; [] for its single `ok`.
 */
export function integrityProblems(rows: readonly string[]): string[] {
  if (rows.length === 1 && rows[0] === 'ok') return [];
  return rows
    .flatMap((row) => row.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^\*\*\* in database \w+ \*\*\*$/.test(line))
    .slice(0, MAX_INTEGRITY_PROBLEMS);
}

/**
 * Runs `probe` on `db` and returns the problems found ([] when none). A DB so damaged that SQLite stops the check
 * with SQLITE_CORRUPT or NOTADB is reported as one problem, its message. Any other error is thrown as SQLite threw it.
 */
export function runIntegrityProbe(db: DatabaseSync, probe: IntegrityProbe): string[] {
  try {
    const rows = db
      .prepare(INTEGRITY_PRAGMA[probe])
      .all()
      .map((row) => String(Object.values(row)[0]));
    return integrityProblems(rows);
  } catch (error) {
    const primary = sqlitePrimaryCode(error);
    if (primary === SQLITE_RESULT.CORRUPT || primary === SQLITE_RESULT.NOTADB) return [error instanceof Error ? error.message : String(error)];
    throw error;
  }
}
