/** `store.stray`: an upper-layer entry that no DB registers: failed builds, interrupted copies, leftovers (pure). */
import { finding, type Finding } from '../findings/index.ts';
import { isWhiteout, type OverlayEntryKind } from '../mount/index.ts';
import type { AuditFacts } from './audit-facts.ts';
import { dedupeLeftoverOf } from './dedupe-leftover.ts';
import { kindAt, shownEntryPath } from './layer-listing.ts';

/**
 * Entries Nix itself keeps in a store dir, never strays: `.links` (optimise's hard-link pool), `trash` and `.trash`
 * (GC's temporary dir), and `lost+found` when the upper layer is a file system's root. `*.lock` files (Nix's path
 * locks, left behind empty) are matched by isNixOwnEntry.
 */
export const NIX_OWN_ENTRIES: ReadonlySet<string> = new Set(['.links', 'trash', '.trash', 'lost+found']);

/** True for entries Nix keeps in a store dir: NIX_OWN_ENTRIES, and regular files named `*.lock`. */
export function isNixOwnEntry(name: string, kind: OverlayEntryKind): boolean {
  return NIX_OWN_ENTRIES.has(name) || (kind === 'file' && name.endsWith('.lock'));
}

/**
 * Warnings for upper entries named like store paths that neither DB registers (whiteouts excepted: a whiteout over
 * a lower entry is the overlay's own record), info for whiteouts over nothing (left over after the lower store
 * dropped the path: harmless until the lower store gets it back), and warnings for entries not named like store
 * paths at all, apart from Nix's own (isNixOwnEntry) and a dedupe's leftovers (`store.dedupe-leftover`: a copy set aside,
 * not yet deleted). Paths are shown escaped (shownEntryPath): a name that is not
 * UTF-8, or holds a newline, prints as the one path that names it.
 */
export function findStrays(facts: AuditFacts): Finding[] {
  const { upperListing, upperDb, lowerDb, lowerEntries, storeDir } = facts;
  const findings: Finding[] = [];
  for (let id = 0; id < upperListing.keys.size; id++) {
    const key = upperListing.keys.keyAt(id);
    if (upperDb.keys.find(key) >= 0 || lowerDb.keys.find(key) >= 0) continue;
    const kind = kindAt(upperListing, id);
    const baseName = upperListing.names?.get(id) ?? '';
    if (isNixOwnEntry(baseName, kind)) continue;
    const upperPath = shownEntryPath(upperListing.dir, baseName);
    const path = `${storeDir}/${baseName}`;
    if (isWhiteout(kind)) {
      if (lowerEntries.has(key)) continue;
      findings.push(
        finding(
          'store.stray',
          'info',
          `the upper layer has a whiteout for ${path}, which the lower store no longer has`,
          { path, upperPath, kind: shownKind(kind) },
          'harmless now; it would hide the path if the lower store got it back: remove it while the overlay is unmounted',
        ),
      );
      continue;
    }
    findings.push(
      finding(
        'store.stray',
        'warning',
        `${upperPath} (a ${shownKind(kind)}) is in the upper layer, but neither DB registers ${path}`,
        { path, upperPath, kind: shownKind(kind), registeredInUpperDb: false, registeredInLowerDb: false },
        'a leftover of a failed build or an interrupted copy: nix-store --gc does not remove it; delete it through the merged store dir once you are sure nothing uses it',
      ),
    );
  }
  for (const other of upperListing.others) {
    if (isNixOwnEntry(other.name.toString('latin1'), other.kind)) continue;
    const upperPath = shownEntryPath(upperListing.dir, other.name);
    const setAside = dedupeLeftoverOf(other.name.toString('latin1'));
    if (setAside !== undefined) {
      findings.push(
        finding(
          'store.dedupe-leftover',
          'warning',
          `${upperPath} is the upper copy of ${storeDir}/${setAside} that an interrupted dedupe set aside and did not delete`,
          { path: `${storeDir}/${setAside}`, upperPath, kind: shownKind(other.kind) },
          'overlay-warden dedupe --apply deletes it first thing, then remounts (the lower copy is then served for the path)',
        ),
      );
      continue;
    }
    findings.push(
      finding(
        'store.stray',
        'warning',
        `${upperPath} (a ${shownKind(other.kind)}) is in the upper layer but is not a store path`,
        { path: shownEntryPath(storeDir, other.name), upperPath, kind: shownKind(other.kind), storePathName: false },
        "not Nix's: delete it through the merged store dir once you are sure nothing uses it",
      ),
    );
  }
  return findings;
}

/** A kind as stray findings name it: `whiteout` for either form, `directory` whether opaque or not. */
function shownKind(kind: OverlayEntryKind): string {
  return isWhiteout(kind) ? 'whiteout' : kind === 'opaque-directory' ? 'directory' : kind;
}
