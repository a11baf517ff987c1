/** Opening a Nix DB read-only with node:sqlite so that nothing is ever created beside it, and checking its schema version and tables. */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { errnoCode, messageOf } from '../errors/index.ts';
import { KIB, TrustError, readBoundedSync } from '../trust/index.ts';
import { percentEncode } from './percent-encoding.ts';
import { NixDbError, SQLITE_RESULT, sqlitePrimaryCode, toNixDbError } from './nix-db-error.ts';
import { checkDbFile, dbChangedError, readDbFileStamp, sameDbFileStamp, sideFileSize, type DbFileStamp } from './nix-db-file.ts';
import { NIX_SCHEMA_VERSION, VALID_PATHS_COLUMNS } from './nix-db-schema.ts';

/**
 * How the DB was opened; in every mode nothing is created, deleted or written in the DB's directory (a plain
 * `mode=ro` open would leave a 0-byte `-wal` and a 32 KiB `-shm` there, and change the directory's mtime).
 * - `immutable`: `immutable=1`, no locks and no side files, as Nix does for `read-only=true`: the caller says the
 *   file cannot change (a lower store that is read-only). Frames in a `-wal` are not seen, as Nix does not see them.
 * - `read-only`: a `-wal` and a `-shm` exist (a Nix process has the DB open, or left them after a crash), so SQLite's
 *   WAL protocol is used as any reader uses it, with `readonly_shm=1`: the `-shm` is mapped read-only (with no live
 *   writer, SQLite rebuilds the index in private memory from the `-wal`), so even it is not written. Reads see what
 *   Nix committed, and Nix cannot checkpoint under them.
 * - `snapshot`: no `-wal` (or an empty one without a `-shm`): nothing is committed outside the DB file, so the file
 *   alone is the DB, read with `immutable=1`. A Nix that starts meanwhile can checkpoint into the file under the
 *   reader (no lock stops it), so the file's stamp is taken before the open and compared after every read that
 *   matters (NixDb.assertUnchanged): a write in between is NIX_DB_CHANGED, and the read is done again, never trusted.
 * - `absent`: no DB file yet (emptyNixDb).
 * The one race left: a `-wal` and `-shm` seen, then deleted by Nix's last connection closing in the microseconds
 * before SQLite looks (see openSharingWal for why it is no longer); SQLite then creates a 0-byte `-wal` (as any
 * reader would) and fails on the missing `-shm`, and the open falls back to a snapshot.
 */
export type NixDbOpenMode = 'read-only' | 'immutable' | 'snapshot' | 'absent';

/** An open SQLite handle and how it was opened. */
export interface OpenedSqlite {
  readonly db: DatabaseSync;
  readonly mode: NixDbOpenMode;
  /** For `snapshot`, the DB file's stamp taken before the open; undefined in other modes. */
  readonly stamp: DbFileStamp | undefined;
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

/** URI parameters of each way of opening. */
const IMMUTABLE = { mode: 'ro', immutable: '1' } as const;
const SHARED_WAL = { mode: 'ro', readonly_shm: '1' } as const;

/**
 * Opens `file` read-only, creating nothing beside it (see NixDbOpenMode): `immutable` when the caller says the file
 * cannot change; otherwise `read-only` when a `-wal` and a `-shm` exist, else `snapshot`. Sets `query_only` and the
 * busy timeout, and forces SQLite to read the header.
 * @throws NixDbError NIX_DB_MISSING, NIX_DB_UNREADABLE, NIX_DB_EMPTY, NIX_DB_NOT_SQLITE, NIX_DB_LOCKED,
 *   NIX_DB_CORRUPT, NIX_DB_CHANGED (a snapshot written while it was opened), NIX_DB_WAL_UNREADABLE (a `-wal` with
 *   frames but no `-shm`: reading them would mean creating one).
 */
export function openSqliteReadOnly(file: string, options: { readonly immutable: boolean; readonly busyTimeoutMs: number }): OpenedSqlite {
  checkDbFile(file);
  if (options.immutable) return { db: openTranslated(file, IMMUTABLE, options.busyTimeoutMs, undefined), mode: 'immutable', stamp: undefined };
  const deadline = performance.now() + options.busyTimeoutMs;
  let lostRaces = 0;
  for (;;) {
    const walBytes = sideFileSize(`${file}-wal`);
    if (walBytes !== undefined && sideFileSize(`${file}-shm`) !== undefined) {
      const outcome = openSharingWal(file, options.busyTimeoutMs);
      if (outcome === 'gone' && ++lostRaces >= 3) {
        throw new NixDbError('NIX_DB_UNREADABLE', `the -wal and -shm of Nix DB ${file} keep vanishing as it is opened`, {
          evidence: { file },
          hint: 'Try again.',
        });
      }
      if (outcome === 'busy') {
        if (performance.now() >= deadline) throw lockedError(file, options.busyTimeoutMs);
        sleepSync(BUSY_POLL_MS);
      }
      if (outcome !== 'busy' && outcome !== 'gone') return { db: outcome, mode: 'read-only', stamp: undefined };
      continue;
    }
    if (walBytes === undefined || walBytes === 0) {
      const stamp = readDbFileStamp(file);
      return { db: openTranslated(file, IMMUTABLE, options.busyTimeoutMs, stamp), mode: 'snapshot', stamp };
    }
    throw new NixDbError('NIX_DB_WAL_UNREADABLE', `Nix DB ${file} has ${walBytes} bytes of WAL but no ${file}-shm; reading them would mean creating it`, {
      evidence: { file, walBytes },
      hint: 'Let Nix checkpoint it (run any nix-store command as the DB owner), or set read-only=true if this store never changes.',
    });
  }
}

/** How often an open that met Nix's exclusive lock looks again. */
const BUSY_POLL_MS = 5;

/**
 * The first read of a `read-only` open, done without SQLite's busy handler. Waiting inside SQLite would be wrong
 * here: the lock met is Nix's last connection closing (it checkpoints and deletes the `-wal` and `-shm` under an
 * exclusive lock), and SQLite, let in afterwards, would find no `-wal` and create one. So a busy DB is `busy` (the
 * caller waits outside and decides again from the side files), and a `-shm` gone by the time SQLite opens it (the
 * race of NixDbOpenMode) is `gone`. Once this read holds its shared lock, no closing Nix can delete the side files.
 */
function openSharingWal(file: string, busyTimeoutMs: number): DatabaseSync | 'busy' | 'gone' {
  let db: DatabaseSync;
  try {
    db = openProbed(file, SHARED_WAL, 0);
  } catch (error) {
    const primary = sqlitePrimaryCode(error);
    if (primary === SQLITE_RESULT.BUSY || primary === SQLITE_RESULT.LOCKED) return 'busy';
    if (primary === SQLITE_RESULT.CANTOPEN && sideFileSize(`${file}-shm`) === undefined) return 'gone';
    throw toNixDbError(error, file, 'opening');
  }
  db.exec(`pragma busy_timeout = ${busyTimeoutMs}`);
  return db;
}

function lockedError(file: string, busyTimeoutMs: number): NixDbError {
  return new NixDbError('NIX_DB_LOCKED', `Nix DB ${file} is locked by another process (opening: still locked after ${busyTimeoutMs} ms)`, {
    evidence: { file, action: 'opening', busyTimeoutMs },
    hint: 'Wait for the Nix command holding the lock to finish, or raise busyTimeoutMs.',
  });
}

/** Blocks the thread for `ms`, as SQLite's own busy handler would. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True when `opened` is a snapshot whose file has been written (or replaced, or removed) since its stamp was taken. */
export function changedSinceOpen(file: string, opened: Pick<OpenedSqlite, 'mode' | 'stamp'>): boolean {
  return opened.mode === 'snapshot' && !sameDbFileStamp(opened.stamp, readDbFileStamp(file));
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

/**
 * Opens and reads the schema page, so that lock, format and WAL problems surface here rather than mid-iteration.
 * Throws SQLite's own error.
 */
function openProbed(file: string, params: Readonly<Record<string, string>>, busyTimeoutMs: number): DatabaseSync {
  const uri = sqliteFileUri(path.resolve(file), params);
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

/** openProbed with SQLite's errors as NixDbErrors; for a snapshot (`stamp`), an error after a write is NIX_DB_CHANGED. */
function openTranslated(file: string, params: Readonly<Record<string, string>>, busyTimeoutMs: number, stamp: DbFileStamp | undefined): DatabaseSync {
  try {
    return openProbed(file, params, busyTimeoutMs);
  } catch (error) {
    const now = stamp === undefined ? undefined : readDbFileStamp(file);
    if (stamp !== undefined && !sameDbFileStamp(stamp, now)) throw dbChangedError(file, 'opening', stamp, now);
    throw toNixDbError(error, file, 'opening');
  }
}
