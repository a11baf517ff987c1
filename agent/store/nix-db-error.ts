/** The error of the Nix DB reader, and the translation of SQLite's result codes into its codes. */
import { WardenError, messageOf } from '../errors/index.ts';

export type NixDbErrorCode =
  | 'NIX_DB_MISSING'
  | 'NIX_DB_UNREADABLE'
  | 'NIX_DB_EMPTY'
  | 'NIX_DB_NOT_SQLITE'
  | 'NIX_DB_NOT_NIX'
  | 'NIX_DB_LOCKED'
  | 'NIX_DB_WAL_UNREADABLE'
  | 'NIX_DB_CORRUPT'
  | 'NIX_DB_CHANGED'
  | 'NIX_DB_SCHEMA_UNREADABLE'
  | 'NIX_DB_SCHEMA_INVALID'
  | 'NIX_DB_SCHEMA_UNSUPPORTED'
  | 'NIX_DB_BAD_ROW'
  | 'NIX_DB_BAD_HASH_PART'
  | 'NIX_DB_QUERY_FAILED'
  | 'NIX_DB_BAD_OPTION'
  | 'NIX_DB_CLOSED';

/** A Nix DB that cannot be read, or a row that makes no sense. `evidence.file` always names the DB (or schema) file. */
export class NixDbError extends WardenError<NixDbErrorCode> {}

/** SQLite primary result codes the reader tells apart (sqlite3.h). */
export const SQLITE_RESULT = {
  PERM: 3,
  BUSY: 5,
  LOCKED: 6,
  READONLY: 8,
  CORRUPT: 11,
  CANTOPEN: 14,
  PROTOCOL: 15,
  AUTH: 23,
  NOTADB: 26,
} as const;

/** The extended SQLite result code of a `node:sqlite` error, or undefined when `error` did not come from SQLite. */
export function sqliteErrorCode(error: unknown): number | undefined {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' ? errcode : undefined;
}

/** The primary result code (low byte) of a `node:sqlite` error, or undefined. */
export function sqlitePrimaryCode(error: unknown): number | undefined {
  const code = sqliteErrorCode(error);
  return code === undefined ? undefined : code & 0xff;
}

/**
 * Turns an error thrown by `node:sqlite` while doing `action` on `file` into a NixDbError, keeping it as cause.
 * BUSY/LOCKED/PROTOCOL → NIX_DB_LOCKED, NOTADB → NIX_DB_NOT_SQLITE, CORRUPT → NIX_DB_CORRUPT,
 * CANTOPEN/PERM/AUTH/READONLY → NIX_DB_UNREADABLE, anything else → NIX_DB_QUERY_FAILED. A NixDbError passes through.
 */
export function toNixDbError(error: unknown, file: string, action: string): NixDbError {
  if (error instanceof NixDbError) return error;
  const errcode = sqliteErrorCode(error);
  const detail = messageOf(error);
  const evidence = { file, action, ...(errcode === undefined ? {} : { sqliteCode: errcode }), detail };
  const make = (code: NixDbErrorCode, message: string, hint: string): NixDbError =>
    new NixDbError(code, `${message} (${action}: ${detail})`, { evidence, hint, cause: error });
  switch (errcode === undefined ? undefined : errcode & 0xff) {
    case SQLITE_RESULT.BUSY:
    case SQLITE_RESULT.LOCKED:
    case SQLITE_RESULT.PROTOCOL:
      return make(
        'NIX_DB_LOCKED',
        `Nix DB ${file} is locked by another process`,
        'Wait for the Nix command holding the lock to finish, or raise busyTimeoutMs.',
      );
    case SQLITE_RESULT.NOTADB:
      return make('NIX_DB_NOT_SQLITE', `${file} is not an SQLite database`, 'Point the store settings at the Nix DB, STATE/db/db.sqlite.');
    case SQLITE_RESULT.CORRUPT:
      return make('NIX_DB_CORRUPT', `Nix DB ${file} is corrupt`, `Check it with: sqlite3 '${file}' 'pragma integrity_check'`);
    case SQLITE_RESULT.CANTOPEN:
    case SQLITE_RESULT.PERM:
    case SQLITE_RESULT.AUTH:
    case SQLITE_RESULT.READONLY:
      return make('NIX_DB_UNREADABLE', `cannot read Nix DB ${file}`, 'Run overlay-warden as a user who can read the DB and its directory.');
    default:
      return make('NIX_DB_QUERY_FAILED', `query on Nix DB ${file} failed`, 'Check that the file is a Nix DB written by Nix 2.0 or later.');
  }
}
