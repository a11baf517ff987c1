/** Read-only access to a Nix DB (db.sqlite): valid paths, references, referrers, realisations; never a write. */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { NixDbError } from './nix-db-error.ts';
import { changedSinceOpen, checkNixTables, openSqliteReadOnly, readSchemaVersion, schemaFileOf, type NixDbOpenMode, type NixDbTables } from './nix-db-open.ts';
import { dbChangedError, readDbFileStamp, type DbFileStamp } from './nix-db-file.ts';
import { runIntegrityProbe, type IntegrityProbe } from './nix-db-integrity.ts';
import {
  VALID_PATH_SELECT,
  decodePathColumn,
  decodeValidPathRow,
  splitSpaces,
  type PathInfo,
  type Realisation,
  type ReferenceEdge,
  type ValidPathRow,
} from './nix-db-rows.ts';
import { isNixBase32Char } from './nix-base32.ts';
import { STORE_PATH_HASH_LENGTH } from './store-path.ts';
import { NIX_DB_SCHEMA_SQL, NIX_SCHEMA_VERSION } from './nix-db-schema.ts';
import { NixDbStatements } from './nix-db-statements.ts';
import type { NixDb, NixDbOptions } from './nix-db-api.ts';

export type { NixDb, NixDbOptions } from './nix-db-api.ts';

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
const DEFAULT_BATCH_EDGES = 65_536;
/** Opens of a snapshot that Nix wrote while it was being opened, before NIX_DB_CHANGED is given up on. */
export const NIX_DB_OPEN_ATTEMPTS = 3;

/**
 * Opens the Nix DB `file` read-only (see openSqliteReadOnly for how: nothing is created beside it), then checks its
 * schema version and tables. A snapshot that Nix writes while it is being opened is opened again (at most
 * NIX_DB_OPEN_ATTEMPTS times): by then Nix usually has its `-wal` there, and the next open reads through SQLite's locks.
 * @throws NixDbError NIX_DB_MISSING, NIX_DB_UNREADABLE, NIX_DB_EMPTY, NIX_DB_NOT_SQLITE, NIX_DB_LOCKED,
 *   NIX_DB_CORRUPT, NIX_DB_CHANGED, NIX_DB_WAL_UNREADABLE, NIX_DB_SCHEMA_UNREADABLE, NIX_DB_SCHEMA_INVALID,
 *   NIX_DB_SCHEMA_UNSUPPORTED, NIX_DB_NOT_NIX, NIX_DB_BAD_OPTION (evidence `option`).
 */
export function openNixDb(file: string, options: NixDbOptions = {}): NixDb {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw badOption(file, 'busyTimeoutMs', busyTimeoutMs, 'a non-negative integer (ms)');
  const storeDir = options.storeDir ?? '/nix/store';
  if (!path.posix.isAbsolute(storeDir)) throw badOption(file, 'storeDir', storeDir, 'an absolute path');
  for (let attempt = 1; ; attempt++) {
    try {
      return openOnce(file, options, busyTimeoutMs, storeDir);
    } catch (error) {
      if (!(error instanceof NixDbError && error.code === 'NIX_DB_CHANGED') || attempt >= NIX_DB_OPEN_ATTEMPTS) throw error;
    }
  }
}

/**
 * Opens `file` (openNixDb), runs `read` on it, checks that a snapshot held (assertUnchanged), closes it, and returns
 * what `read` returned. When Nix wrote the file meanwhile (NIX_DB_CHANGED, or anything `read` threw while it did) it is
 * all done again, at most NIX_DB_OPEN_ATTEMPTS times: for short reads whose result must rest on one state of the DB.
 * @throws whatever openNixDb or `read` throws; NIX_DB_CHANGED after the last attempt.
 */
export function readNixDb<T>(file: string, options: NixDbOptions, read: (db: NixDb) => T): T {
  for (let attempt = 1; ; attempt++) {
    const db = openNixDb(file, options);
    try {
      const result = read(db);
      db.assertUnchanged('reading');
      return result;
    } catch (error) {
      const changed = db.changedSinceOpen();
      if (!changed || attempt >= NIX_DB_OPEN_ATTEMPTS)
        throw changed && !(error instanceof NixDbError && error.code === 'NIX_DB_CHANGED')
          ? dbChangedError(file, 'reading', undefined, readDbFileStamp(file))
          : error;
    } finally {
      db.close();
    }
  }
}

function openOnce(file: string, options: NixDbOptions, busyTimeoutMs: number, storeDir: string): NixDb {
  const { db, mode, stamp } = openSqliteReadOnly(file, { immutable: options.immutable ?? false, busyTimeoutMs });
  try {
    const schemaVersion = readSchemaVersion(options.schemaFile ?? schemaFileOf(file));
    const tables = checkNixTables(db, file);
    const reader = new NixDbReader(db, { file, mode, stamp, schemaVersion, storeDir: path.posix.normalize(storeDir).replace(/(.)\/$/, '$1'), tables });
    reader.assertUnchanged('opening');
    return reader;
  } catch (error) {
    db.close();
    // A snapshot written meanwhile may look like anything (not Nix, corrupt): that is no verdict on the DB.
    if (changedSinceOpen(file, { mode, stamp })) throw dbChangedError(file, 'opening', stamp, readDbFileStamp(file));
    throw error;
  }
}

/**
 * A NixDb with no rows, for a DB that does not exist yet: the upper DB of an overlay store Nix has not used (Nix
 * creates it on first use), which holds nothing. An in-memory SQLite with Nix's schema, so readers need no special
 * case; `file` names the absent file and `mode` is `absent`. Nothing is written anywhere.
 */
export function emptyNixDb(file: string, storeDir = '/nix/store'): NixDb {
  const db = new DatabaseSync(':memory:');
  db.exec(NIX_DB_SCHEMA_SQL);
  db.exec('PRAGMA query_only = true');
  return new NixDbReader(db, {
    file,
    mode: 'absent',
    stamp: undefined,
    schemaVersion: NIX_SCHEMA_VERSION,
    storeDir: path.posix.normalize(storeDir).replace(/(.)\/$/, '$1'),
    tables: checkNixTables(db, file),
  });
}

/** The NixDb behind openNixDb and emptyNixDb: Nix's queries, run through NixDbStatements. */
class NixDbReader implements NixDb {
  readonly file: string;
  readonly mode: NixDbOpenMode;
  readonly schemaVersion: number;
  readonly storeDir: string;
  readonly tables: NixDbTables;
  readonly gaps = [] as const;
  readonly #sql: NixDbStatements;
  readonly #stamp: DbFileStamp | undefined;

  constructor(
    db: DatabaseSync,
    facts: { file: string; mode: NixDbOpenMode; stamp: DbFileStamp | undefined; schemaVersion: number; storeDir: string; tables: NixDbTables },
  ) {
    this.#sql = new NixDbStatements(db, facts.file, () => this.changedSinceOpen());
    this.file = facts.file;
    this.mode = facts.mode;
    this.#stamp = facts.stamp;
    this.schemaVersion = facts.schemaVersion;
    this.storeDir = facts.storeDir;
    this.tables = facts.tables;
  }

  get source(): string {
    return this.file;
  }

  iterateValidPaths(afterId?: number): Generator<ValidPathRow, void, undefined> {
    const decode = (row: unknown[]): ValidPathRow => decodeValidPathRow(row, this.file);
    if (afterId === undefined) return this.#sql.rows(`${VALID_PATH_SELECT} order by id`, [], 'iterating ValidPaths', decode);
    return this.#sql.rows(`${VALID_PATH_SELECT} where id > ? order by id`, [afterId], 'iterating ValidPaths after an id', decode);
  }

  countValidPaths(): number {
    return Number(this.#sql.get('select count(*) from ValidPaths', [], 'counting ValidPaths')?.[0] ?? 0);
  }

  isValidPath(storePath: string): boolean {
    return this.#sql.get('select 1 from ValidPaths where path = ?', [storePath], 'querying a path') !== undefined;
  }

  queryPathInfo(storePath: string): PathInfo | undefined {
    const row = this.#sql.get(`${VALID_PATH_SELECT} where path = ?`, [storePath], 'querying path info');
    if (row === undefined) return undefined;
    const info = decodeValidPathRow(row, this.file);
    return {
      ...info,
      references: this.#sql.paths('select path from Refs join ValidPaths on reference = id where referrer = ?', info.id, 'querying references'),
    };
  }

  queryReferences(storePath: string): string[] | undefined {
    const id = this.#idOf(storePath);
    return id === undefined
      ? undefined
      : this.#sql.paths('select path from Refs join ValidPaths on reference = id where referrer = ?', id, 'querying references');
  }

  queryReferrers(storePath: string): string[] | undefined {
    const id = this.#idOf(storePath);
    return id === undefined
      ? undefined
      : this.#sql.paths('select path from Refs join ValidPaths on referrer = id where reference = ?', id, 'querying referrers');
  }

  queryPathFromHashPart(hashPart: string): string | undefined {
    let valid = hashPart.length === STORE_PATH_HASH_LENGTH;
    for (let i = 0; valid && i < hashPart.length; i++) valid = isNixBase32Char(hashPart.charCodeAt(i));
    if (!valid) {
      throw new NixDbError('NIX_DB_BAD_HASH_PART', `'${hashPart}' is not a store path hash part (${STORE_PATH_HASH_LENGTH} Nix base-32 chars)`, {
        evidence: { file: this.file, hashPart },
        hint: `Pass the ${STORE_PATH_HASH_LENGTH} chars between '${this.storeDir}/' and the first '-' of a store path.`,
      });
    }
    const prefix = `${this.storeDir}/${hashPart}`;
    const found = this.#sql.get('select path from ValidPaths where path >= ? limit 1', [prefix], 'querying a hash part')?.[0];
    return typeof found === 'string' && found.startsWith(prefix) ? found : undefined;
  }

  queryRealisations(): Realisation[] {
    const realisations: Realisation[] = [];
    const decode =
      (table: Realisation['table']) =>
      (row: unknown[]): Realisation => ({
        table,
        drvPath: decodePathColumn(row[0], this.file, `${table}.drvPath`),
        outputName: decodePathColumn(row[1], this.file, `${table}.outputName`),
        outputPath: decodePathColumn(row[2], this.file, `${table}.outputPath`),
        signatures: splitSpaces(typeof row[3] === 'string' ? row[3] : null),
      });
    if (this.tables.realisations) {
      const sql = 'select r.drvPath, r.outputName, v.path, r.signatures from Realisations r join ValidPaths v on v.id = r.outputPath order by r.id';
      realisations.push(...this.#sql.rows(sql, [], 'reading Realisations', decode('Realisations')));
    }
    if (this.tables.buildTrace) {
      const sql = 'select drvPath, outputName, outputPath, signatures from BuildTraceV3 order by id';
      realisations.push(...this.#sql.rows(sql, [], 'reading BuildTraceV3', decode('BuildTraceV3')));
    }
    return realisations;
  }

  iterateReferences(): Generator<ReferenceEdge, void, undefined> {
    const sql = 'select a.path, b.path from Refs join ValidPaths a on a.id = referrer join ValidPaths b on b.id = reference order by referrer, reference';
    return this.#sql.rows(sql, [], 'iterating references', (row) => ({
      referrer: decodePathColumn(row[0], this.file, 'referrer path'),
      reference: decodePathColumn(row[1], this.file, 'reference path'),
    }));
  }

  *iterateReferenceIds(batchEdges = DEFAULT_BATCH_EDGES): Generator<Uint32Array, void, undefined> {
    if (!Number.isSafeInteger(batchEdges) || batchEdges < 1) throw badOption(this.file, 'batchEdges', batchEdges, 'a positive integer');
    let batch = new Uint32Array(batchEdges * 2);
    let length = 0;
    const rows = this.#sql.rows('select referrer, reference from Refs order by referrer, reference', [], 'iterating reference ids', (row) => row);
    for (const row of rows) {
      const referrer = row[0];
      const reference = row[1];
      if (typeof referrer !== 'number' || referrer >>> 0 !== referrer) throw badIdRow(this.file, 'Refs.referrer', referrer);
      if (typeof reference !== 'number' || reference >>> 0 !== reference) throw badIdRow(this.file, 'Refs.reference', reference);
      batch[length++] = referrer;
      batch[length++] = reference;
      if (length === batch.length) {
        yield batch;
        batch = new Uint32Array(batchEdges * 2);
        length = 0;
      }
    }
    if (length > 0) yield batch.slice(0, length);
  }

  changedSinceOpen(): boolean {
    return changedSinceOpen(this.file, { mode: this.mode, stamp: this.#stamp });
  }

  assertUnchanged(action: string): void {
    if (this.changedSinceOpen()) throw dbChangedError(this.file, action, this.#stamp, readDbFileStamp(this.file));
  }

  checkIntegrity(probe: IntegrityProbe): string[] {
    const action = `checking integrity (${probe})`;
    const problems = this.#sql.withDb(action, (db) => runIntegrityProbe(db, probe));
    if (problems.length > 0) this.assertUnchanged(action);
    return problems;
  }

  close(): void {
    this.#sql.close();
  }

  #idOf(storePath: string): number | undefined {
    const id = this.#sql.get('select id from ValidPaths where path = ?', [storePath], 'querying a path')?.[0];
    return typeof id === 'number' ? id : undefined;
  }
}

function badOption(file: string, option: string, value: unknown, expected: string): NixDbError {
  return new NixDbError('NIX_DB_BAD_OPTION', `option ${option} of the Nix DB reader is ${JSON.stringify(value)}, expected ${expected}`, {
    evidence: { file, option, value, expected },
    hint: `Pass ${option} as ${expected}.`,
  });
}

function badIdRow(file: string, column: string, value: unknown): NixDbError {
  return new NixDbError('NIX_DB_BAD_ROW', `Nix DB ${file}: ${column} is ${String(value)}, expected a row id below 2^32`, {
    evidence: { file, column, value: typeof value === 'bigint' ? String(value) : value, expected: 'an integer id' },
    hint: 'The DB was not written by Nix or was edited by hand.',
  });
}
