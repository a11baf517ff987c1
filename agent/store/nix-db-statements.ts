/** Runs SQL on one open Nix DB for the reader: cached statements for lookups, a fresh one per stream, SQLite errors as NixDbErrors. */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { NixDbError, toNixDbError } from './nix-db-error.ts';
import { dbChangedError } from './nix-db-file.ts';
import { decodePathColumn } from './nix-db-rows.ts';

/**
 * The SQL side of a NixDb. Every method names its `action` (`querying references`) for the error it may throw:
 * NIX_DB_CLOSED after close, NIX_DB_CHANGED when `changed()` says the file was written under a lock-free reader
 * (a torn read looks like corruption, and is not), or a code of toNixDbError. Rows come back as arrays.
 */
export class NixDbStatements {
  readonly #db: DatabaseSync;
  readonly #file: string;
  readonly #changed: () => boolean;
  readonly #statements = new Map<string, StatementSync>();
  #closed = false;

  constructor(db: DatabaseSync, file: string, changed: () => boolean) {
    this.#db = db;
    this.#file = file;
    this.#changed = changed;
  }

  /** Runs `use` with the connection itself (a pragma), its errors translated as the other methods' are. */
  withDb<T>(action: string, use: (db: DatabaseSync) => T): T {
    if (this.#closed) throw closedError(this.#file, action);
    try {
      return use(this.#db);
    } catch (error) {
      throw this.#translate(error, action);
    }
  }

  /** Runs a lookup through a cached statement, returning the first row. */
  get(sql: string, params: (string | number)[], action: string): unknown[] | undefined {
    try {
      return this.#statement(sql, action).get(...params) as unknown[] | undefined;
    } catch (error) {
      throw this.#translate(error, action);
    }
  }

  /** The sorted path column of a one-parameter query. @throws NixDbError NIX_DB_BAD_ROW on a value that is not a path. */
  paths(sql: string, id: number, action: string): string[] {
    let rows: unknown[][];
    try {
      rows = this.#statement(sql, action).all(id) as unknown as unknown[][];
    } catch (error) {
      throw this.#translate(error, action);
    }
    return rows.map((row) => decodePathColumn(row[0], this.#file, 'path')).sort();
  }

  /** Streams a query through its own statement, decoding each row; the statement is reset however the loop ends. */
  *rows<T>(sql: string, params: (string | number)[], action: string, decode: (row: unknown[]) => T): Generator<T, void, undefined> {
    if (this.#closed) throw closedError(this.#file, action);
    let iterator: Iterator<unknown[]>;
    try {
      const statement = this.#db.prepare(sql);
      statement.setReturnArrays(true);
      iterator = statement.iterate(...params) as unknown as Iterator<unknown[]>;
    } catch (error) {
      throw this.#translate(error, action);
    }
    let done = false;
    try {
      for (;;) {
        let next: IteratorResult<unknown[]>;
        try {
          next = iterator.next();
        } catch (error) {
          throw this.#translate(error, action);
        }
        if (next.done === true) {
          done = true;
          return;
        }
        let value: T;
        try {
          value = decode(next.value);
        } catch (error) {
          throw this.#changed() ? dbChangedError(this.#file, action, undefined, undefined) : error;
        }
        yield value;
      }
    } finally {
      if (!done && !this.#closed) iterator.return?.();
    }
  }

  /** Closes the connection; later calls throw NIX_DB_CLOSED. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }

  #statement(sql: string, action: string): StatementSync {
    if (this.#closed) throw closedError(this.#file, action);
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      statement.setReturnArrays(true);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #translate(error: unknown, action: string): NixDbError {
    if (this.#closed) return closedError(this.#file, action);
    if (this.#changed()) return dbChangedError(this.#file, action, undefined, undefined);
    return toNixDbError(error, this.#file, action);
  }
}

function closedError(file: string, action: string): NixDbError {
  return new NixDbError('NIX_DB_CLOSED', `Nix DB ${file} is closed (${action})`, { evidence: { file, action }, hint: 'Open it again with openNixDb.' });
}
