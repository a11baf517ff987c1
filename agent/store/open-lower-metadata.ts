/** Opens a lower store's metadata from where its layout says it is: its DB file, else its nix-daemon. */
import { loadDaemonSnapshot } from './daemon-snapshot-load.ts';
import { LowerMetadataError } from './lower-metadata-error.ts';
import type { LowerMetadata } from './lower-metadata.ts';
import { openNixDb, type NixDb } from './nix-db.ts';
import type { LowerStoreLayout } from './store-layout.ts';

export interface LowerMetadataOptions {
  /** Only these store paths are needed (verify of given paths): a daemon is asked about them alone. A DB opens whole. */
  readonly paths?: readonly string[];
  /** Only the rows after this id, at most `limit` of them, are read in full (a scrub chunk); a DB opens whole. */
  readonly rowsAfter?: { readonly afterId: number; readonly limit: number };
  readonly signal?: AbortSignal;
  /** A daemon's limit per operation, in ms. */
  readonly timeoutMs?: number;
  /** More layers whose entries may be lower paths (the upper layer), asked about when a daemon does not list its paths. */
  readonly alsoCandidates?: readonly string[];
}

/** The lower metadata, and the DB reader behind it when it is a DB (for what only a DB has: integrity checks, its file). */
export interface OpenedLowerMetadata {
  readonly metadata: LowerMetadata;
  readonly db: NixDb | undefined;
}

/**
 * Opens `lower`'s metadata read-only: its SQLite DB when `lower.db` is set (immutable when `read-only=true`, as Nix
 * opens it), else a snapshot read from the nix-daemon at `lower.daemonSocket` (see loadDaemonSnapshot).
 * @throws LowerMetadataError LOWER_METADATA_NO_SOURCE when it has neither; NixDbError from openNixDb; DaemonError
 *   from the daemon (connect, a dropped connection or a timeout mid-read, naming the op).
 */
export async function openLowerMetadata(lower: LowerStoreLayout, options: LowerMetadataOptions = {}): Promise<OpenedLowerMetadata> {
  if (lower.db !== undefined) {
    const db = openNixDb(lower.db, { storeDir: lower.storeDir, immutable: lower.readOnly });
    return { metadata: db, db };
  }
  if (lower.daemonSocket === undefined) {
    throw new LowerMetadataError(
      'LOWER_METADATA_NO_SOURCE',
      `the lower store (${lower.url || 'auto'}) has neither a DB file nor a daemon socket to read its metadata from`,
      {
        evidence: { lowerStore: lower.url, kind: lower.kind },
        hint: 'give the lower store as a local store path (lower-store=/path/to/root?read-only=true) or a daemon socket (unix:///path/to/socket?real=/path/to/store)',
      },
    );
  }
  const metadata = await loadDaemonSnapshot({
    socket: lower.daemonSocket,
    storeDir: lower.storeDir,
    candidateDirs: [lower.realStoreDir, ...(options.alsoCandidates ?? [])],
    ...(options.paths === undefined ? {} : { paths: options.paths }),
    ...(options.rowsAfter === undefined ? {} : { rowsAfter: options.rowsAfter }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  return { metadata, db: undefined };
}
