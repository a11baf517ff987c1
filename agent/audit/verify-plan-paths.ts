/** What verify hashes for store paths named on the command line (pure): as a scope plans them, one path at a time. */
import type { Finding } from '../findings/index.ts';
import { isWhiteout } from '../mount/index.ts';
import { STORE_PATH_KEY_BYTES, writeStorePathKey } from '../store/index.ts';
import { AuditError } from './audit-error.ts';
import type { VerifyItem } from './find-corrupt.ts';
import { maskedByWhiteout } from './find-masked.ts';
import { kindAt, type LayerListing } from './layer-listing.ts';
import { expectationOf, upperCopy, type NarRow, type VerifyPlaces, type VerifyPlan } from './verify-plan.ts';

/** One path named on the command line, with what each DB registers for it. */
export interface PathRequest {
  /** Its base name (see userPathBaseName). */
  readonly baseName: string;
  readonly upper: NarRow | undefined;
  readonly lower: NarRow | undefined;
}

export interface PathFacts {
  readonly places: VerifyPlaces;
  readonly upperListing: LayerListing;
  /** The DB files, for expectations and evidence. */
  readonly upperDb: string;
  readonly lowerDb: string;
}

/**
 * Plans the verification of given paths (pure), in their order, each judged by what the merged view serves, as
 * planScope does with both DBs: an upper copy (when the upper layer has one) against the DB Nix describes it by (the
 * upper DB when it registers the path, else the lower), with the lower copy under it hashed too and judged against
 * the lower DB; else the lower copy against both DBs. A path a whiteout hides becomes a `store.masked` finding.
 * `requests` is read one at a time, so an error is thrown for the first path that has one.
 * @throws AuditError AUDIT_UNKNOWN_PATH when a path is registered in neither DB.
 */
export function planPaths(requests: Iterable<PathRequest>, facts: PathFacts): VerifyPlan {
  const { places, upperListing, upperDb, lowerDb } = facts;
  const items: VerifyItem[] = [];
  const findings: Finding[] = [];
  const key = Buffer.alloc(STORE_PATH_KEY_BYTES);
  for (const { baseName, upper, lower } of requests) {
    const path = `${places.storeDir}/${baseName}`;
    if (upper === undefined && lower === undefined) {
      throw new AuditError('AUDIT_UNKNOWN_PATH', `${path} is registered in neither the upper nor the lower DB`, {
        evidence: { path, upperDb, lowerDb },
        hint: 'nothing to verify: check the path (nix-store -q --hash PATH)',
      });
    }
    const id = writeStorePathKey(baseName, key, 0) ? upperListing.keys.find(key) : -1;
    const kind = id >= 0 ? kindAt(upperListing, id) : undefined;
    const fromUpper = expectationOf('upper', upper, upperDb);
    const fromLower = expectationOf('lower', lower, lowerDb);
    if (kind !== undefined && isWhiteout(kind)) {
      const upperPath = `${places.upperLayer}/${baseName}`;
      findings.push(maskedByWhiteout({ path, upperPath, kind, registeredInLowerDb: lower !== undefined, registeredInUpperDb: upper !== undefined }));
    } else if (kind !== undefined) {
      items.push(upperCopy(places, baseName, upper !== undefined ? fromUpper : fromLower, fromLower));
    } else {
      items.push({ path, file: `${places.lower.realStoreDir}/${baseName}`, layer: 'lower', expected: [...fromUpper, ...fromLower] });
    }
  }
  return { items, total: items.length, totalBytes: items.reduce((sum, item) => sum + (item.expected[0]?.narSize ?? 0), 0), findings };
}
