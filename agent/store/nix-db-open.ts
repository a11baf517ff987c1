/** Opening a Nix DB read-only with node:sqlite (plain or `immutable=1`), and checking its schema version and tables. */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { errnoCode, messageOf } from '../errors/index.ts';
import { KIB, TrustError, readBoundedSync } from '../trust/index.ts';
import { percentEncode } from './percent-encoding.ts';
import { NixDbError, SQLITE_RESULT, sqlitePrimaryCode, toNixDbError } from './nix-db-error.ts';
import { NIX_SCHEMA_VERSION, VALID_PATHS_COLUMNS } from './nix-db-schema.ts';

/**
 * How the DB was opened. `read-only`: SQLite's normal read-only open, sharing WAL locks with Nix (it may create
 * `-wal`/`-shm` in a writable DB directory, as any reader does). `immutable`: `immutable=1`, no locks and no
 * side files, as Nix does for `read-only=true`. `immutable-fallback`: a read-only open was impossible because the
 * `-shm` file is missing and the directory is not writable, and the WAL held no frames, so the DB file was read as
 * immutable; a Nix that starts writing while it is read is not seen.
 */
export type NixDbOpenMode = 'read-only' | 'immutable' | 'immutable-fallback' | 'absent';

/** An open SQLite handle and how it was opened. */
export interface OpenedSqlite {
  readonly db: DatabaseSync;
  readonly mode: NixDbOpenMode;
}

/** Which optional tables a Nix DB has. */
export interface NixDbTables {
  /** Realisations (CA derivations, Nix 2.4 to 2.3x). */
  readonly realisations: boolean;
  /** BuildTraceV3 (CA derivations, later Nix). */
  readonly buildTrace: boolean;
}

/** The SQLite `file:` URI of absolute `file` with query parameters, the path %-escaped as Nix does (pure). */
export function sqliteFileUri(file: string, params: Readonly<Record<string, string>>): string {
  const query = Object.entries(params)
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  return `file:${percentEncode(file, '/')}${query === '' ? '' : `?${query}`}`;
}

/** The schema version in the text of a `schema` file, or undefined when it is not a non-negative integer (pure). */
export function parseSchemaVersion(text: string): number | undefined {
  const trimmed = text.trim();
  return /^[0-9]{1,9}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** The most bytes of a `schema` file read: Nix writes a number there. */
export const SCHEMA_FILE_MAX_BYTES = 4 * KIB;

/**
 * Reads the `schema` file Nix keeps beside its DB and checks the version is NIX_SCHEMA_VERSION. Its type is checked
 * first and at most SCHEMA_FILE_MAX_BYTES are read, so a FIFO or a device in its place fails at once.
 * @throws NixDbError NIX_DB_SCHEMA_UNREADABLE (missing, unreadable, not a regular file, too large), NIX_DB_SCHEMA_INVALID
 *   (not an integer), NIX_DB_SCHEMA_UNSUPPORTED (any other version; evidence `found` and `supported`).
 */
export function readSchemaVersion(schemaFile: string): number {
  let text: string;
  try {
    text = readBoundedSync(schemaFile, { what: 'Nix DB schema file', maxBytes: SCHEMA_FILE_MAX_BYTES }).toString('utf8');
  } catch (cause) {
    const why = cause instanceof TrustError ? cause.message : (errnoCode(cause) ?? messageOf(cause));
    throw new NixDbError('NIX_DB_SCHEMA_UNREADABLE', `cannot read the Nix DB schema file ${schemaFile} (${why})`, {
      evidence: { file: schemaFile, errno: errnoCode(cause) },
      hint: 'Nix writes STATE/db/schema beside db.sqlite; point the store settings at a state dir Nix created.',
      cause,
    });
  }
  const version = parseSchemaVersion(text);
  if (version === undefined) {
    throw new NixDbError('NIX_DB_SCHEMA_INVALID', `Nix DB schema file ${schemaFile} does not hold a version number: ${JSON.stringify(text.slice(0, 40))}`, {
      evidence: { file: schemaFile, content: text.slice(0, 40) },
      hint: 'Nix writes a single integer there; restore it from a healthy store of the same Nix version.',
    });
  }
  if (version !== NIX_SCHEMA_VERSION) {
    const older = version < NIX_SCHEMA_VERSION;
    throw new NixDbError('NIX_DB_SCHEMA_UNSUPPORTED', `Nix DB schema version ${version} in ${schemaFile} is not supported (only ${NIX_SCHEMA_VERSION})`, {
      evidence: { file: schemaFile, found: version, supported: NIX_SCHEMA_VERSION },
      hint: older
        ? 'The DB predates Nix 2.0 and needs migrating: run any nix-store command on it with a current Nix, as its owner.'
        : 'The DB was written by a Nix newer than overlay-warden knows; upgrade overlay-warden.',
    });
  }
  return version;
}

/**
 * Opens `file` read-only: with `immutable` as `immutable=1` (Nix's `read-only=true`), otherwise as a plain read-only
 * reader, falling back to immutable only when that needs `-shm`/`-wal` files it cannot create and the WAL holds no
 * frames (see NixDbOpenMode). Sets `query_only` and the busy timeout, and forces SQLite to read the header.
 * @throws NixDbError NIX_DB_MISSING, NIX_DB_UNREADABLE, NIX_DB_NOT_SQLITE, NIX_DB_LOCKED, NIX_DB_CORRUPT,
 *   NIX_DB_WAL_UNREADABLE (the WAL has frames, and neither `-shm` exists nor can be created).
 */
export function openSqliteReadOnly(file: string, options: { readonly immutable: boolean; readonly busyTimeoutMs: number }): OpenedSqlite {
  checkDbFile(file);
  if (options.immutable) return { db: openTranslated(file, true, options.busyTimeoutMs), mode: 'immutable' };
  try {
    return { db: openProbed(file, false, options.busyTimeoutMs), mode: 'read-only' };
  } catch (error) {
    const primary = sqlitePrimaryCode(error);
    if (primary !== SQLITE_RESULT.READONLY && primary !== SQLITE_RESULT.CANTOPEN) throw toNixDbError(error, file, 'opening');
    const walBytes = sizeOrZero(`${file}-wal`);
    if (walBytes === 0) return { db: openTranslated(file, true, options.busyTimeoutMs), mode: 'immutable-fallback' };
    throw new NixDbError('NIX_DB_WAL_UNREADABLE', `Nix DB ${file} has ${walBytes} bytes of WAL that cannot be read without creating ${file}-shm`, {
      evidence: { file, walBytes, detail: messageOf(error) },
      hint: 'Let Nix checkpoint it (run any nix-store command as the DB owner), give overlay-warden write access to the DB directory, or set read-only=true if this store never changes.',
      cause: error,
    });
  }
}

/**
 * Checks that the DB has the tables and ValidPaths columns the reader uses, and reports the optional CA tables.
 * @throws NixDbError NIX_DB_NOT_NIX (evidence: the missing table or columns), or a toNixDbError code.
 */
export function checkNixTables(db: DatabaseSync, file: string): NixDbTables {
  let tables: Set<string>;
  let columns: Set<string>;
  try {
    const rows = db.prepare("select name from sqlite_master where type = 'table'").all();
    tables = new Set(rows.map((row) => String(row['name'])));
    columns = new Set(
      db
        .prepare('select name from pragma_table_info(?)')
        .all('ValidPaths')
        .map((row) => String(row['name'])),
    );
  } catch (error) {
    throw toNixDbError(error, file, 'reading the table list');
  }
  const missingTables = ['ValidPaths', 'Refs'].filter((table) => !tables.has(table));
  const missingColumns = missingTables.includes('ValidPaths') ? [] : VALID_PATHS_COLUMNS.filter((column) => !columns.has(column));
  if (missingTables.length > 0 || missingColumns.length > 0) {
    const what = missingTables.length > 0 ? `table ${missingTables.join(' and ')}` : `ValidPaths column ${missingColumns.join(', ')}`;
    throw new NixDbError('NIX_DB_NOT_NIX', `${file} is an SQLite database but not a Nix DB: it lacks ${what}`, {
      evidence: { file, missingTables, missingColumns },
      hint: 'Point the store settings at the Nix DB, STATE/db/db.sqlite.',
    });
  }
  return { realisations: tables.has('Realisations'), buildTrace: tables.has('BuildTraceV3') };
}

/** The default `schema` file of a DB: beside it, as Nix keeps STATE/db/schema. */
export function schemaFileOf(file: string): string {
  return path.join(path.dirname(file), 'schema');
}

function checkDbFile(file: string): void {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(file);
  } catch (cause) {
    const errno = errnoCode(cause);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') {
      throw new NixDbError('NIX_DB_MISSING', `Nix DB ${file} does not exist`, {
        evidence: { file, errno },
        hint: 'Check the store URL (root, state) or the configured DB path; Nix creates STATE/db/db.sqlite on first use.',
        cause,
      });
    }
    throw new NixDbError('NIX_DB_UNREADABLE', `cannot stat Nix DB ${file} (${errno ?? messageOf(cause)})`, {
      evidence: { file, errno },
      hint: 'Run overlay-warden as a user who can read the DB and its directory.',
      cause,
    });
  }
  if (!stats.isFile()) {
    throw new NixDbError('NIX_DB_NOT_SQLITE', `Nix DB ${file} is not a regular file`, {
      evidence: { file },
      hint: 'Point the store settings at the Nix DB, STATE/db/db.sqlite.',
    });
  }
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (cause) {
    throw new NixDbError('NIX_DB_UNREADABLE', `cannot read Nix DB ${file} (${errnoCode(cause) ?? messageOf(cause)})`, {
      evidence: { file, errno: errnoCode(cause) },
      hint: 'Run overlay-warden as a user who can read the DB.',
      cause,
    });
  }
}

/**
 * Opens and reads the schema page, so that lock, format and WAL problems surface here rather than mid-iteration.
 * Throws SQLite's own error (the caller decides what a READONLY or CANTOPEN means).
 */
function openProbed(file: string, immutable: boolean, busyTimeoutMs: number): DatabaseSync {
  const uri = sqliteFileUri(path.resolve(file), immutable ? { mode: 'ro', immutable: '1' } : { mode: 'ro' });
  const db = new DatabaseSync(uri, { readOnly: true, timeout: busyTimeoutMs, enableForeignKeyConstraints: false });
  try {
    db.exec('pragma query_only = 1');
    db.prepare('select count(*) from sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function openTranslated(file: string, immutable: boolean, busyTimeoutMs: number): DatabaseSync {
  try {
    return openProbed(file, immutable, busyTimeoutMs);
  } catch (error) {
    throw toNixDbError(error, file, 'opening');
  }
}

function sizeOrZero(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
