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
        differs
          ? 'the copies differ: find out which is right (overlay-warden verify --all) before removing either'
          : registeredInLowerDb
            ? 'overlay-warden dedupe --apply removes upper copies the lower store holds with the same NAR hash (then remounts)'
            : undefined,
      ),
    );
  }
  return findings;
}
