/** What a file that should hold a Nix DB holds: a Nix DB, or what it is instead (how a replaced DB is reported). */
import type { DatabaseSync } from 'node:sqlite';
import { NixDbError } from './nix-db-error.ts';
import { checkNixTables, openSqliteReadOnly } from './nix-db-open.ts';

/**
 * What a file that should be a Nix DB holds, as far as opening it tells: a Nix DB, an `empty` file, a file that is
 * `not-sqlite`, an SQLite DB of the `wrong-schema` (not Nix's tables, or a schema version Nix does not write), or
 * `unreadable` (permissions, corrupt, locked). A replaced lower DB is reported with it.
 */
export const NIX_DB_CONTENTS = ['nix-db', 'empty', 'not-sqlite', 'wrong-schema', 'unreadable'] as const;
export type NixDbContent = (typeof NIX_DB_CONTENTS)[number];

/** The content verdict of an error opening a DB threw (pure): what the file is instead of a Nix DB. */
export function nixDbContentOf(error: unknown): Exclude<NixDbContent, 'nix-db'> {
  if (!(error instanceof NixDbError)) return 'unreadable';
  switch (error.code) {
    case 'NIX_DB_EMPTY':
      return 'empty';
    case 'NIX_DB_NOT_SQLITE':
      return 'not-sqlite';
    case 'NIX_DB_NOT_NIX':
    case 'NIX_DB_SCHEMA_INVALID':
    case 'NIX_DB_SCHEMA_UNSUPPORTED':
      return 'wrong-schema';
    default:
      return 'unreadable';
  }
}

/** How a content verdict that is not a Nix DB reads, after "it is" (pure). */
export function describeNixDbContent(content: Exclude<NixDbContent, 'nix-db'>): string {
  return NOT_A_NIX_DB[content];
}

const NOT_A_NIX_DB: Readonly<Record<Exclude<NixDbContent, 'nix-db'>, string>> = {
  empty: 'empty (0 bytes)',
  'not-sqlite': 'not an SQLite database',
  'wrong-schema': "an SQLite database without Nix's schema",
  unreadable: 'unreadable to SQLite (its ValidPaths cannot be counted)',
};

/** What the DB file holds and its ValidPaths counters (null unless it is a Nix DB). */
export interface NixDbFileFacts {
  readonly content: NixDbContent;
  readonly validPaths: { readonly count: number; readonly maxId: number } | null;
}

/**
 * Opens `file` with `immutable=1` (no locks, nothing created beside it; frames in a `-wal` are not seen) and says what
 * it holds: its header, then Nix's tables, then (with `counters`, the default) `count(*)` and `max(id)` of
 * ValidPaths. Never throws: a file that is not a Nix DB is a verdict, not an error.
 */
export function inspectNixDbFile(file: string, counters = true): NixDbFileFacts {
  let opened;
  try {
    opened = openSqliteReadOnly(file, { immutable: true, busyTimeoutMs: 1000 });
  } catch (error) {
    return { content: nixDbContentOf(error), validPaths: null };
  }
  try {
    // The counters first: they identify a DB even when its other tables are not Nix's.
    const validPaths = counters ? countValidPaths(opened.db) : null;
    try {
      checkNixTables(opened.db, file);
    } catch (error) {
      return { content: nixDbContentOf(error), validPaths };
    }
    return { content: counters && validPaths === null ? 'unreadable' : 'nix-db', validPaths };
  } finally {
    opened.db.close();
  }
}

function countValidPaths(db: DatabaseSync): NixDbFileFacts['validPaths'] {
  try {
    const row = db.prepare('select count(*) as c, coalesce(max(id), 0) as m from ValidPaths').get() as { c: unknown; m: unknown } | undefined;
    return typeof row?.c === 'number' && typeof row.m === 'number' ? { count: row.c, maxId: row.m } : null;
  } catch {
    return null;
  }
}
