/** `store.masked`: a whiteout or opaque dir in the upper layer hiding a path the lower DB says is valid (pure). */
import { finding, type Finding } from '../findings/index.ts';
import { isWhiteout } from '../mount/index.ts';
import type { AuditFacts } from './audit-facts.ts';
import { kindAt, shownEntryPath } from './layer-listing.ts';

/**
 * For each upper entry whose key the lower DB registers: a whiteout (either form) is an error, since Nix (which asks
 * the lower DB) thinks the path valid while the merged view shows nothing; an opaque directory is a warning, since
 * the merged view shows only the upper copy's contents. The listing's kinds must have their xattrs applied
 * (applyOverlayMarks); when the xattrs could not be read, one info finding says that opaque dirs (and xattr
 * whiteouts) were not checked.
 */
export function findMasked(facts: AuditFacts): Finding[] {
  const { upperListing, lowerDb, upperDb, xattrs, storeDir } = facts;
  const findings: Finding[] = [];
  let candidates = 0;
  for (let id = 0; id < upperListing.keys.size; id++) {
    const key = upperListing.keys.keyAt(id);
    if (lowerDb.keys.find(key) < 0) continue;
    const kind = kindAt(upperListing, id);
    if (kind === 'directory' || kind === 'opaque-directory') candidates++;
    const baseName = upperListing.names?.get(id) ?? '';
    const path = `${storeDir}/${baseName}`;
    const upperPath = shownEntryPath(upperListing.dir, baseName);
    const registeredInUpperDb = upperDb.keys.find(key) >= 0;
    if (isWhiteout(kind)) {
      const form = kind === 'device-whiteout' ? 'character device 0/0' : 'overlay.whiteout xattr';
      findings.push(
        finding(
          'store.masked',
          'error',
          `${path} is valid in the lower DB but a whiteout in the upper layer hides it: the merged store shows nothing there${registeredInUpperDb ? ', though the upper DB registers it too' : ''}`,
          { path, upperPath, marker: 'whiteout', form, registeredInLowerDb: true, registeredInUpperDb },
          'remove the whiteout from the upper layer while the overlay is unmounted (or re-add the path through the merged store), then remount',
        ),
      );
      continue;
    }
    if (kind === 'opaque-directory') {
      findings.push(
        finding(
          'store.masked',
          'warning',
          `${path} is valid in the lower DB but an opaque directory in the upper layer replaces its contents in the merged store`,
          { path, upperPath, marker: 'opaque', registeredInLowerDb: true, registeredInUpperDb },
          'compare both copies (overlay-warden audit --hash-duplicates); if they differ, the merged view is not what the lower DB describes',
        ),
      );
    }
  }
  if (!xattrs.available && candidates > 0) {
    findings.push(
      finding(
        'store.masked',
        'info',
        `opaque directories were not checked (${xattrs.reason}): ${candidates} upper director${candidates === 1 ? 'y' : 'ies'} over lower-valid paths could hide their lower contents`,
        { path: upperListing.dir, checked: false, reason: xattrs.reason, candidates },
        'install getfattr (Debian: apt-get install attr) to check opaque directories',
      ),
    );
  }
  return findings;
}
