/** What dedupe reports about the duplicates it leaves, and about the merged view after removing the rest (pure). */
import { finding, type Finding } from '../findings/index.ts';
import type { DbMatch, DedupeVerdict } from './dedupe-judge.ts';

/** One duplicate as dedupe reports it. */
export interface DedupePathReport {
  readonly path: string;
  readonly upperPath: string;
  readonly kind: string;
  /** Disk space removing the upper copy frees (null: not measured). */
  readonly bytes: number | null;
  readonly verdict: DedupeVerdict;
  /** `--apply` removed it (renamed aside, then deleted). */
  readonly removed: boolean;
  readonly dbNarHash: string | null;
  readonly upperNarHash: string | null;
  readonly lowerNarHash: string | null;
  readonly matchesDb: DbMatch | null;
  readonly error: string | null;
}

const MATCH_TEXT: Readonly<Record<DbMatch, string>> = {
  both: 'both copies match the DB',
  upper: "the DB's narHash matches the upper copy (the one the merged view serves now), not the lower one",
  lower: "the DB's narHash matches the lower copy, not the upper one the merged view serves now",
  neither: "the DB's narHash matches neither copy",
  'dbs-disagree': 'the upper and lower DBs record different narHashes for it',
};

/** The finding for a duplicate dedupe left in place, or none for one it removes (or would). */
export function leftDuplicateFinding(p: DedupePathReport): Finding | undefined {
  const evidence = {
    path: p.path,
    upperPath: p.upperPath,
    verdict: p.verdict,
    matchesDb: p.matchesDb,
    dbNarHash: p.dbNarHash,
    upperNarHash: p.upperNarHash,
    lowerNarHash: p.lowerNarHash,
    ...(p.error === null ? {} : { error: p.error }),
  };
  switch (p.verdict) {
    case 'remove':
      if (p.error === null) return undefined;
      return p.removed
        ? finding(
            'store.dedupe-leftover',
            'warning',
            `${p.path}: its upper copy was set aside but not deleted: ${p.error}`,
            evidence,
            'overlay-warden dedupe --apply deletes it first thing',
          )
        : finding('store.duplicate', 'warning', `${p.path}: its upper copy was not removed: ${p.error}`, evidence);
    case 'differs':
      return finding(
        'store.duplicate',
        'warning',
        `${p.path} is in both layers but the copies differ, so dedupe leaves it: ${MATCH_TEXT[p.matchesDb ?? 'neither']}`,
        evidence,
        `overlay-warden verify ${p.path} says the same; keep the copy that matches the DB, and repair or rebuild the other`,
      );
    case 'unregistered':
      return finding(
        'store.duplicate',
        'info',
        `${p.path} is in both layers but the lower DB does not register it, so dedupe leaves it (nothing says the lower copy is right)`,
        evidence,
      );
    case 'failed':
      return finding('store.duplicate', 'warning', `${p.path}: its copies could not be hashed, so dedupe leaves it: ${p.error ?? 'unknown error'}`, evidence);
  }
}

/** What the merged dir served for a removed path after the remount: nothing in the upper layer, and the DB's hash. */
export interface ServedCheck {
  readonly path: string;
  readonly upperStillThere: boolean;
  readonly servedHash: string | undefined;
  readonly dbNarHash: string;
  readonly error: string | undefined;
}

/** An error finding when a removed path is not served from the lower layer with the DB's hash; none when it is. */
export function servedCheckFinding(c: ServedCheck): Finding | undefined {
  const served = c.servedHash === undefined ? undefined : `sha256:${c.servedHash}`;
  if (!c.upperStillThere && c.error === undefined && served === c.dbNarHash.toLowerCase()) return undefined;
  const why = c.upperStillThere
    ? 'the upper layer still has an entry by its name'
    : c.error !== undefined
      ? `the merged dir does not serve it: ${c.error}`
      : `the merged dir serves a copy with NAR hash ${served ?? '?'}, not the DB's ${c.dbNarHash}`;
  return finding(
    'store.corrupt',
    'error',
    `after dedupe, ${c.path} is not served from the lower layer with the DB's hash: ${why}`,
    {
      path: c.path,
      expected: c.dbNarHash,
      actual: served ?? null,
      upperStillThere: c.upperStillThere,
      ...(c.error === undefined ? {} : { error: c.error }),
    },
    'a stale view keeps serving deleted upper files: overlay-warden remount; then overlay-warden verify PATH',
  );
}
