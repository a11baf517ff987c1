/** Check: the upper DB is absent (Nix creates it on first use) or a readable, sound Nix DB of the schema Nix writes. */
import fs from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import { INTEGRITY_PRAGMA, NixDbError, readNixDb } from '../store/index.ts';
import type { Check } from './check.ts';

/** What opening the upper DB read-only found. */
export type UpperDbFacts =
  | { readonly file: string; readonly state: 'absent' }
  | {
      readonly file: string;
      readonly state: 'ok';
      readonly schemaVersion: number;
      readonly mode: string;
      /** What SQLite's quick_check found wrong ([] when nothing). */
      readonly problems: readonly string[];
    }
  | { readonly file: string; readonly state: 'error'; readonly code: string; readonly message: string; readonly evidence: Readonly<Record<string, unknown>> };

/** Codes that mean "a DB, but not one of the schema overlay-warden and Nix agree on". */
const SCHEMA_CODES = new Set(['NIX_DB_SCHEMA_UNREADABLE', 'NIX_DB_SCHEMA_INVALID', 'NIX_DB_SCHEMA_UNSUPPORTED', 'NIX_DB_NOT_NIX', 'NIX_DB_EMPTY']);

/**
 * Opens `file` with the read-only Nix DB reader (never a write, nothing created beside it), runs SQLite's
 * `quick_check` on it (see IntegrityProbe: O(N), about 0.1 s per 100,000 paths, catches damaged pages of any table or
 * index but not an index that disagrees with its table: `audit` and `verify` check that), and closes it again.
 */
export function probeUpperDb(file: string, storeDir: string): UpperDbFacts {
  try {
    fs.statSync(file);
  } catch (error) {
    const errno = errnoCode(error);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return { file, state: 'absent' };
  }
  try {
    return readNixDb(file, { busyTimeoutMs: 2000, storeDir }, (db) => ({
      file,
      state: 'ok' as const,
      schemaVersion: db.schemaVersion,
      mode: db.mode,
      problems: db.checkIntegrity('quick'),
    }));
  } catch (error) {
    if (error instanceof NixDbError) {
      if (error.code === 'NIX_DB_MISSING') return { file, state: 'absent' };
      return { file, state: 'error', code: error.code, message: error.message, evidence: error.evidence };
    }
    throw error;
  }
}

/**
 * Decides (pure): `layer.upper-db-absent` (info: Nix creates it on first use), `layer.upper-db-schema` (error:
 * empty, not a Nix DB, or a schema version other than the one Nix writes), `layer.upper-db-corrupt` (error: SQLite
 * finds damaged pages) and `layer.upper-db-unreadable` (error: missing permissions, not SQLite, locked…). Nothing for
 * a sound, readable DB.
 */
export function decideUpperDb(facts: UpperDbFacts): Finding[] {
  if (facts.state === 'ok') {
    if (facts.problems.length === 0) return [];
    return [corruptFinding(facts.file, `fails SQLite's quick_check: ${facts.problems[0]}`, { pragma: INTEGRITY_PRAGMA.quick, problems: facts.problems })];
  }
  if (facts.state === 'absent') {
    return [
      finding('layer.upper-db-absent', 'info', `the upper DB ${facts.file} does not exist yet; Nix creates it the first time it opens the store`, {
        path: facts.file,
      }),
    ];
  }
  if (SCHEMA_CODES.has(facts.code)) {
    return [
      finding(
        'layer.upper-db-schema',
        'error',
        `the upper DB ${facts.file} is not a Nix DB of a known schema: ${facts.message}`,
        { path: facts.file, code: facts.code, ...facts.evidence },
        "check the store URL's `state` (or `root`): STATE/db/db.sqlite must be the overlay store's own Nix DB",
      ),
    ];
  }
  if (facts.code === 'NIX_DB_CORRUPT') return [corruptFinding(facts.file, `cannot be opened: ${facts.message}`, { code: facts.code, ...facts.evidence })];
  return [
    finding(
      'layer.upper-db-unreadable',
      'error',
      `the upper DB ${facts.file} cannot be read: ${facts.message}`,
      { path: facts.file, code: facts.code, ...facts.evidence },
      'run overlay-warden as a user who can read the DB and its directory; check the file with sqlite3 FILE "pragma integrity_check"',
    ),
  ];
}

function corruptFinding(file: string, what: string, evidence: Readonly<Record<string, unknown>>): Finding {
  return finding(
    'layer.upper-db-corrupt',
    'error',
    `the upper DB ${file} is damaged: it ${what}; Nix reads the same pages, so it may fail or answer wrongly`,
    { path: file, ...evidence },
    `stop Nix, back up the DB directory, then rebuild it from what is left: sqlite3 '${file}' .recover | sqlite3 NEW.sqlite (or restore a backup)`,
  );
}

export const upperDbCheck: Check = {
  id: 'layer.upper-db',
  title: 'upper DB is absent or a readable Nix DB',
  run: (context) => decideUpperDb(probeUpperDb(context.config.layout.upperDb, context.config.layout.storeDir)),
};
