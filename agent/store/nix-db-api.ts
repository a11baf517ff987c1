/** The read-only Nix DB reader's interface and options (implemented in nix-db.ts). */
import type { NixDbOpenMode, NixDbTables } from './nix-db-open.ts';
import type { IntegrityProbe } from './nix-db-integrity.ts';
import type { Realisation, ValidPathRow } from './nix-db-rows.ts';
import type { LowerMetadata, LowerMetadataGap } from './lower-metadata.ts';

export interface NixDbOptions {
  /** Open with SQLite's `immutable=1`, as Nix does for a store URL with `read-only=true`. Default false. */
  readonly immutable?: boolean;
  /** How long a query waits for a lock held by Nix before NIX_DB_LOCKED, in ms. Default 10000 (Nix waits an hour). */
  readonly busyTimeoutMs?: number;
  /** The logical store dir the DB's paths live under, for queryPathFromHashPart. Default `/nix/store`. */
  readonly storeDir?: string;
  /** The schema version file. Default: `schema` beside the DB, where Nix keeps it. */
  readonly schemaFile?: string;
}

/** An open, read-only Nix DB. All methods throw NixDbError (NIX_DB_CLOSED after close, or a code of toNixDbError). */
export interface NixDb extends LowerMetadata {
  /** The DB file, as given. */
  readonly file: string;
  /** The DB file (LowerMetadata.source). */
  readonly source: string;
  /** None: a DB answers every query. */
  readonly gaps: readonly LowerMetadataGap[];
  /** How SQLite opened it (see NixDbOpenMode). */
  readonly mode: NixDbOpenMode;
  /** From the `schema` file: NIX_SCHEMA_VERSION. */
  readonly schemaVersion: number;
  readonly storeDir: string;
  /** Which CA tables exist. */
  readonly tables: NixDbTables;
  /**
   * Every ValidPaths row in id order, streamed from one SQLite read (a consistent snapshot), never all in memory.
   * Stop early with `break`/`return()`; the statement is released either way. NIX_DB_BAD_ROW on a malformed row.
   * With `afterId`, only the rows whose id is above it (an index seek): how work in chunks resumes from a cursor.
   */
  iterateValidPaths(afterId?: number): Generator<ValidPathRow, void, undefined>;
  /**
   * The valid path whose hash part is `hashPart`, or undefined; an index seek, as Nix does (`path >= storeDir/hashPart`).
   * @throws NixDbError NIX_DB_BAD_HASH_PART when `hashPart` is not 32 Nix base-32 chars.
   */
  queryPathFromHashPart(hashPart: string): string | undefined;
  /** All realisations (CA derivations) from Realisations and BuildTraceV3; [] when neither table exists. */
  queryRealisations(): Realisation[];
  /**
   * True when the DB was opened as a `snapshot` (no locks: see NixDbOpenMode) and its file has been written since,
   * so what was read may mix two states. Always false in the other modes.
   */
  changedSinceOpen(): boolean;
  /** Throws NixDbError NIX_DB_CHANGED (naming `action`) when changedSinceOpen(). Call it after the reads a result rests on. */
  assertUnchanged(action: string): void;
  /**
   * Runs SQLite's consistency check `probe` (see IntegrityProbe for what each catches and costs) on this read-only
   * connection; returns the problems found, [] when none.
   * @throws NixDbError NIX_DB_CHANGED (a snapshot written meanwhile: its problems may be a torn read, not damage),
   *   NIX_DB_CLOSED, or a code of toNixDbError.
   */
  checkIntegrity(probe: IntegrityProbe): string[];
  /** Closes the connection; later calls throw NIX_DB_CLOSED. Idempotent. */
  close(): void;
}
