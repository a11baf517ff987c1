/** Opens the upper and lower Nix DBs of a layout read-only, the lower one immutable when the layout says read-only. */
import { emptyNixDb, openNixDb, type NixDb, NixDbError, type StoreLayout } from '../store/index.ts';
import { AuditError } from './audit-error.ts';

export interface AuditDbs {
  readonly upper: NixDb;
  readonly lower: NixDb;
  /** Closes both; idempotent. */
  close(): void;
}

/**
 * Opens both DBs. The upper one as a plain read-only reader (Nix may be writing it); the lower one with SQLite's
 * `immutable=1` when the lower store URL has `read-only=true`, as Nix does.
 * A missing upper DB (an overlay store Nix has not used yet) is an empty one: there is nothing registered to audit.
 * @throws AuditError AUDIT_NO_LOWER_DB when the lower store's metadata comes from a daemon (no DB file);
 *   NixDbError (NIX_DB_MISSING, NIX_DB_LOCKED, …) when a DB cannot be opened.
 */
export function openAuditDbs(layout: StoreLayout): AuditDbs {
  const lowerFile = layout.lower.db;
  if (lowerFile === undefined) {
    throw new AuditError(
      'AUDIT_NO_LOWER_DB',
      `the lower store (${layout.lower.url || 'auto'}) has no DB file overlay-warden can read: its metadata comes from a daemon`,
      {
        evidence: { lowerStore: layout.lower.url, kind: layout.lower.kind },
        hint: 'give the lower store as a local store path (lower-store=/path/to/root?read-only=true) so its DB can be read',
      },
    );
  }
  const upper = openUpperDb(layout);
  let lower: NixDb;
  try {
    lower = openNixDb(lowerFile, { storeDir: layout.lower.storeDir, immutable: layout.lower.readOnly });
  } catch (error) {
    upper.close();
    throw error;
  }
  return {
    upper,
    lower,
    close() {
      upper.close();
      lower.close();
    },
  };
}

function openUpperDb(layout: StoreLayout): NixDb {
  try {
    return openNixDb(layout.upperDb, { storeDir: layout.storeDir });
  } catch (error) {
    if (error instanceof NixDbError && error.code === 'NIX_DB_MISSING') return emptyNixDb(layout.upperDb, layout.storeDir);
    throw error;
  }
}
