/** Creates a fresh Nix DB with Nix's schema and fills it in one transaction (demo and test stores only). */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { NIX_DB_SCHEMA_SQL, NIX_SCHEMA_VERSION } from '../store/index.ts';
import { DemoStoreError } from './demo-store-error.ts';

/** A registration as Nix writes it to ValidPaths. */
export interface Registration {
  readonly path: string;
  /** `sha256:<base-16>`, the DB's form. */
  readonly narHash: string;
  readonly narSize: number;
  readonly registrationTime: number;
  readonly deriver?: string | undefined;
  readonly ultimate?: boolean;
  readonly sigs?: readonly string[];
  readonly ca?: string | undefined;
}

/** Bulk writer of one new Nix DB; call finish() once to commit, switch to WAL as Nix does, and close. */
export interface NixDbWriter {
  /** Registers a path and returns its ValidPaths id. Its references must already be registered. */
  addPath(registration: Registration): number;
  /** Adds the edge referrer → reference (ids from addPath). */
  addReference(referrer: number, reference: number): void;
  /** Commits, sets journal_mode=wal (no -wal/-shm remain after close), closes, and writes the `schema` file. */
  finish(): void;
  /** Closes without committing (after a failure); a no-op after finish(). */
  abort(): void;
}

/**
 * Creates `stateDir/db/db.sqlite` (and the `schema` file on finish), which must not exist yet: this writer is for
 * stores overlay-warden builds itself, never for an existing Nix DB. Fast settings (no journal, no sync) are safe
 * here because a failed build is thrown away.
 * @throws DemoStoreError DEMO_STORE_DB_EXISTS.
 */
export function createNixDb(stateDir: string): NixDbWriter {
  const dbDir = path.join(stateDir, 'db');
  fs.mkdirSync(dbDir, { recursive: true });
  const file = path.join(dbDir, 'db.sqlite');
  if (fs.existsSync(file)) {
    throw new DemoStoreError('DEMO_STORE_DB_EXISTS', `refusing to create a Nix DB over the existing ${file}`, {
      evidence: { file },
      hint: 'Build demo stores in a new, empty directory.',
    });
  }
  const db = new DatabaseSync(file, { enableForeignKeyConstraints: false });
  db.exec('pragma journal_mode = off; pragma synchronous = off; pragma locking_mode = exclusive; pragma cache_size = -32768;');
  db.exec(NIX_DB_SCHEMA_SQL);
  db.exec('begin');
  const insertPath: StatementSync = db.prepare(
    'insert into ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertRef: StatementSync = db.prepare('insert into Refs (referrer, reference) values (?, ?)');
  let finished = false;
  return {
    addPath(r: Registration): number {
      const sigs = r.sigs === undefined || r.sigs.length === 0 ? null : r.sigs.join(' ');
      const result = insertPath.run(r.path, r.narHash, r.registrationTime, r.deriver ?? null, r.narSize, r.ultimate === true ? 1 : null, sigs, r.ca ?? null);
      return Number(result.lastInsertRowid);
    },
    addReference(referrer: number, reference: number): void {
      insertRef.run(referrer, reference);
    },
    finish(): void {
      if (finished) return;
      finished = true;
      db.exec('commit');
      db.exec('pragma locking_mode = normal; pragma journal_mode = wal;');
      db.close();
      fs.writeFileSync(path.join(dbDir, 'schema'), String(NIX_SCHEMA_VERSION));
    },
    abort(): void {
      if (finished) return;
      finished = true;
      db.close();
    },
  };
}
