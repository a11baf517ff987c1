/** `store.duplicate`: a store path present in both layers, with the bytes removing the upper copy would free (pure). */
import { finding, type Finding } from '../findings/index.ts';
import { formatBytes } from '../config/index.ts';
import { isWhiteout } from '../mount/index.ts';
import type { AuditFacts } from './audit-facts.ts';
import { kindAt, shownEntryPath } from './layer-listing.ts';

/** Upper-listing ids of the entries that are duplicates: store-path-named, not whiteouts, and present in the lower layer. */
export function duplicateIds(facts: Pick<AuditFacts, 'upperListing' | 'lowerEntries'>): number[] {
  const { upperListing, lowerEntries } = facts;
  const ids: number[] = [];
  for (let id = 0; id < upperListing.keys.size; id++) {
    if (!lowerEntries.has(upperListing.keys.keyAt(id))) continue;
    if (!isWhiteout(kindAt(upperListing, id))) ids.push(id);
  }
  return ids;
}

/** What a duplicate's two copies are known to be, and which DBs register the path. */
interface DuplicateFacts {
  readonly differs: boolean;
  readonly sameHash: boolean;
  readonly registeredInLowerDb: boolean;
  readonly registeredInUpperDb: boolean;
}

/**
 * What to do about a duplicate, with commands that exist (pure). Copies that differ: `verify PATH` says which one
 * matches the DB (it hashes what the merged view serves and the lower copy). A dedupe candidate: Nix's optimise
 * through the overlay store deletes the upper copy of every path the upper DB registers and the lower store holds
 * valid (directly in the upper layer, then its remount-hook); any other upper copy is deleted by hand while unmounted.
 */
export function duplicateHint(path: string, facts: DuplicateFacts): string | undefined {
  if (facts.differs) {
    return facts.registeredInLowerDb || facts.registeredInUpperDb
      ? `the copies differ: overlay-warden verify ${path} says which copy matches the DB (it hashes what the merged view serves and the lower copy) before you remove either`
      : 'the copies differ and no DB registers the path, so nothing says which is right: keep the one the merged view serves (the upper copy) unless you know better';
  }
  if (!facts.registeredInLowerDb) return undefined;
  const check = facts.sameHash
    ? ''
    : '; check first that both copies hash the same (overlay-warden audit --hash-duplicates), or what the merged view serves changes';
  return facts.registeredInUpperDb
    ? `a dedupe candidate: nix-store --optimise through the overlay store deletes the upper copy of every path the upper DB registers and the lower store holds valid, then runs the store's remount-hook (without one, run overlay-warden remount)${check}`
    : `a dedupe candidate: delete the upper copy from the upper layer while the overlay is unmounted, then mount again (Nix's optimise skips it: the upper DB does not register the path)${check}`;
}

/**
 * One finding per duplicate. Info when the lower DB registers the path (a dedupe candidate, as Nix's optimise
 * would remove it), warning when the two copies were hashed and differ (the merged view shows the upper one, so
 * removing it would change what users see), info with a note when the lower copy is not registered.
 */
export function findDuplicates(facts: AuditFacts): Finding[] {
  const { upperListing, lowerDb, upperDb, storeDir } = facts;
  const findings: Finding[] = [];
  for (const id of duplicateIds(facts)) {
    const baseName = upperListing.names?.get(id) ?? '';
    const path = `${storeDir}/${baseName}`;
    const key = upperListing.keys.keyAt(id);
    const registeredInLowerDb = lowerDb.keys.find(key) >= 0;
    const registeredInUpperDb = upperDb.keys.find(key) >= 0;
    const upperBytes = facts.duplicateBytes.get(id);
    const pair = facts.pairs.get(id);
    const error = facts.duplicateErrors.get(id);
    const differs = pair !== undefined && !pair.equal;
    const bytesText = upperBytes === undefined ? '' : `; removing the upper copy frees ${formatBytes(upperBytes)}`;
    const hashText = pair === undefined ? '' : pair.equal ? '; both copies have the same NAR hash' : '; the copies differ (different NAR hashes)';
    findings.push(
      finding(
        'store.duplicate',
        differs ? 'warning' : 'info',
        `${path} is in both layers${bytesText}${hashText}${registeredInLowerDb ? '' : ' (the lower DB does not register its lower copy)'}`,
        {
          path,
          upperPath: shownEntryPath(upperListing.dir, baseName),
          lowerPath: shownEntryPath(facts.lowerStoreDir, baseName),
          upperBytes,
          registeredInUpperDb,
          registeredInLowerDb,
          sameNarHash: pair?.equal,
          ...(pair === undefined ? {} : { upperNarHash: pair.upperHash, lowerNarHash: pair.lowerHash }),
          ...(error === undefined ? {} : { error }),
        },
        duplicateHint(path, { differs, sameHash: pair?.equal === true, registeredInLowerDb, registeredInUpperDb }),
      ),
    );
  }
  return findings;
}
