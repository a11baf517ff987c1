/** Whether dedupe may remove an upper copy: both copies and both DBs must agree on one NAR hash (pure). */

/** What dedupe does, or would do, with one duplicate. */
export const DEDUPE_VERDICTS = ['remove', 'differs', 'unregistered', 'failed'] as const;
export type DedupeVerdict = (typeof DEDUPE_VERDICTS)[number];

/** Which copy has the NAR hash the DB records (`both` for a removable one; `dbs-disagree` when the DBs differ). */
export type DbMatch = 'both' | 'upper' | 'lower' | 'neither' | 'dbs-disagree';

/** What is known of one duplicate: both DBs' narHash (`sha256:<hex>` as stored) and both copies' (lowercase hex). */
export interface DuplicateHashes {
  readonly upperDbHash: string | undefined;
  readonly lowerDbHash: string | undefined;
  /** The upper copy as the merged view serves it (merged over the lower one where OverlayFS merges). */
  readonly servedHash: string | undefined;
  readonly lowerHash: string | undefined;
  /** Why a copy could not be hashed. */
  readonly error: string | undefined;
}

export interface DuplicateJudgement {
  readonly verdict: DedupeVerdict;
  readonly matchesDb: DbMatch | undefined;
}

/** `sha256:<hex>` lower-cased, the form the DB stores and hashes are compared in. */
function normalHash(hash: string): string {
  const hex = hash.startsWith('sha256:') ? hash.slice('sha256:'.length) : hash;
  return `sha256:${hex.toLowerCase()}`;
}

/**
 * Removable only when the lower DB registers the path (else the lower store does not know the copy that would be
 * served), the upper DB, if it registers it too, records the same narHash, and the served upper copy and the lower
 * copy both hash to it: then removing the upper copy changes nothing users or Nix see. A copy that could not be
 * hashed is never removed.
 */
export function judgeDuplicate(h: DuplicateHashes): DuplicateJudgement {
  if (h.lowerDbHash === undefined) return { verdict: 'unregistered', matchesDb: undefined };
  const db = normalHash(h.lowerDbHash);
  if (h.upperDbHash !== undefined && normalHash(h.upperDbHash) !== db) return { verdict: 'differs', matchesDb: 'dbs-disagree' };
  if (h.error !== undefined || h.servedHash === undefined || h.lowerHash === undefined) return { verdict: 'failed', matchesDb: undefined };
  const upper = normalHash(h.servedHash) === db;
  const lower = normalHash(h.lowerHash) === db;
  if (upper && lower) return { verdict: 'remove', matchesDb: 'both' };
  return { verdict: 'differs', matchesDb: upper ? 'upper' : lower ? 'lower' : 'neither' };
}
