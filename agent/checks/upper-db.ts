/** Check: the upper DB is absent (Nix creates it on first use) or a readable Nix DB of the schema Nix writes. */
import fs from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import { NixDbError, openNixDb } from '../store/index.ts';
import type { Check } from './check.ts';

/** What opening the upper DB read-only found. */
export type UpperDbFacts =
  | { readonly file: string; readonly state: 'absent' }
  | { readonly file: string; readonly state: 'ok'; readonly schemaVersion: number; readonly mode: string }
  | { readonly file: string; readonly state: 'error'; readonly code: string; readonly message: string; readonly evidence: Readonly<Record<string, unknown>> };

/** Codes that mean "a DB, but not one of the schema overlay-warden and Nix agree on". */
const SCHEMA_CODES = new Set(['NIX_DB_SCHEMA_UNREADABLE', 'NIX_DB_SCHEMA_INVALID', 'NIX_DB_SCHEMA_UNSUPPORTED', 'NIX_DB_NOT_NIX']);

/** Opens `file` with the read-only Nix DB reader (never a write, never creating it) and closes it again. */
export function probeUpperDb(file: string, storeDir: string): UpperDbFacts {
  try {
    fs.statSync(file);
  } catch (error) {
    const errno = errnoCode(error);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return { file, state: 'absent' };
  }
  try {
    const db = openNixDb(file, { busyTimeoutMs: 2000, storeDir });
    const facts = { file, state: 'ok' as const, schemaVersion: db.schemaVersion, mode: db.mode };
    db.close();
    return facts;
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
 * not a Nix DB, or a schema version other than the one Nix writes) and `layer.upper-db-unreadable` (error:
 * missing permissions, not SQLite, corrupt, locked…). Nothing for a readable DB.
 */
export function decideUpperDb(facts: UpperDbFacts): Finding[] {
  if (facts.state === 'ok') return [];
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

export const upperDbCheck: Check = {
  id: 'layer.upper-db',
  title: 'upper DB is absent or a readable Nix DB',
  run: (context) => decideUpperDb(probeUpperDb(context.config.layout.upperDb, context.config.layout.storeDir)),
};
