/** `store.masked`: a whiteout or opaque dir in the upper layer hiding a path the lower DB says is valid (pure). */
import { finding, type Finding } from '../findings/index.ts';
import { isWhiteout, type OverlayEntryKind } from '../mount/index.ts';
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
      findings.push(maskedByWhiteout({ path, upperPath, kind, registeredInLowerDb: true, registeredInUpperDb }));
      continue;
    }
    if (kind === 'opaque-directory') {
      findings.push(
        finding(
          'store.masked',
          'warning',
          `${path} is valid in the lower DB but an opaque directory in the upper layer replaces its contents in the merged store`,
          { path, upperPath, marker: 'opaque', registeredInLowerDb: true, registeredInUpperDb },
          `overlay-warden verify ${path} hashes what the merged view serves (the upper directory alone) and the lower copy, and says which matches the DB`,
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

/** A registered store path a whiteout in the upper layer hides, and which DBs register it (at least one). */
export interface WhiteoutOverPath {
  readonly path: string;
  readonly upperPath: string;
  readonly kind: Extract<OverlayEntryKind, 'device-whiteout' | 'xattr-whiteout'>;
  readonly registeredInLowerDb: boolean;
  readonly registeredInUpperDb: boolean;
}

/**
 * The `store.masked` error for a whiteout over a registered path (pure): Nix thinks the path valid (the upper DB
 * answers for it, or the lower DB does) while the merged view shows nothing there. Audit and verify report it alike.
 */
export function maskedByWhiteout(w: WhiteoutOverPath): Finding {
  const form = w.kind === 'device-whiteout' ? 'character device 0/0' : 'overlay.whiteout xattr';
  const valid = w.registeredInLowerDb
    ? `is valid in the lower DB${w.registeredInUpperDb ? ' (and the upper DB registers it too)' : ''}`
    : 'is registered in the upper DB';
  return finding(
    'store.masked',
    'error',
    `${w.path} ${valid} but a whiteout in the upper layer hides it: the merged store shows nothing there`,
    { path: w.path, upperPath: w.upperPath, marker: 'whiteout', form, registeredInLowerDb: w.registeredInLowerDb, registeredInUpperDb: w.registeredInUpperDb },
    w.registeredInLowerDb
      ? 'remove the whiteout from the upper layer while the overlay is unmounted (or re-add the path through the merged store), then remount'
      : 'repair it through the overlay store (nix-store --repair-path PATH substitutes or rebuilds it over the whiteout), or remove its registration once nothing references it',
  );
}
