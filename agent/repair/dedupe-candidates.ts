/** Gathers what dedupe works on: the audit's duplicates (upper copies of paths the lower layer holds), their DB hashes, and leftovers. */
import { applyOverlayMarks, dedupeLeftoverOf, duplicateIds, KIND_CODE, kindAt, listLayer, withAuditDbs, type LayerListing } from '../audit/index.ts';
import { messageOf } from '../errors/index.ts';
import type { OverlayEntryKind } from '../mount/index.ts';
import { allocatedBytesFreedByRemovalSync } from '../pool/index.ts';
import type { StoreLayout } from '../store/index.ts';

/** One upper copy of a path the lower layer also holds. */
export interface DedupeCandidate {
  /** The store path's base name (`<hash>-<name>`), validated as one. */
  readonly baseName: string;
  /** The full store path (`/nix/store/…`). */
  readonly path: string;
  /** The entry's kind in the upper layer (never a whiteout: those are the overlay's records, not copies). */
  readonly kind: OverlayEntryKind;
  /** Disk space removing the upper copy frees (absent when it could not be measured, then `bytesError`). */
  readonly bytes: number | undefined;
  readonly bytesError: string | undefined;
  /** narHash as each DB stores it, when it registers the path. */
  readonly upperDbHash: string | undefined;
  readonly lowerDbHash: string | undefined;
}

export interface DedupeFacts {
  readonly candidates: readonly DedupeCandidate[];
  /** Names of upper entries an interrupted dedupe set aside (`.overlay-warden-dedupe-<name>`), and the store path names they stand for. */
  readonly leftovers: ReadonlyArray<{ readonly name: string; readonly baseName: string }>;
}

/**
 * Lists both layers' top levels (no links followed: entries are typed by lstat), reads the overlay xattrs of upper
 * directories and empty files over lower entries (an xattr whiteout is no copy; an opaque dir is one), and keeps
 * the audit's duplicates (duplicateIds): store-path-named upper entries other than whiteouts whose name the lower
 * layer has. Each one's narHash is read from both DBs (read-only, creating nothing beside them) and its upper
 * copy's disk usage measured.
 * @throws AuditError AUDIT_LAYER_UNREADABLE, AUDIT_NO_LOWER_DB; NixDbError when a DB cannot be read.
 */
export async function gatherDedupeFacts(layout: StoreLayout, signal: AbortSignal): Promise<DedupeFacts> {
  const upperListing = await listLayer(layout.upperLayer, { names: true, signal });
  const lowerListing = await listLayer(layout.lower.realStoreDir, { signal });
  const lowerEntries = { dir: lowerListing.dir, size: lowerListing.keys.size, has: (key: Uint8Array, offset = 0) => lowerListing.keys.find(key, offset) >= 0 };
  const overLower: number[] = [];
  for (let id = 0; id < upperListing.keys.size; id++) {
    const kind = upperListing.kinds[id];
    if ((kind === KIND_CODE.directory || kind === KIND_CODE.file) && lowerEntries.has(upperListing.keys.keyAt(id))) overLower.push(id);
  }
  await applyOverlayMarks(upperListing, overLower, { signal });
  const ids = duplicateIds({ upperListing, lowerEntries });
  const candidates = await withAuditDbs(layout, signal, async (dbs) => {
    const found = ids.map((id) => {
      const baseName = nameOf(upperListing, id);
      return {
        baseName,
        path: `${layout.storeDir}/${baseName}`,
        kind: kindAt(upperListing, id),
        upperDbHash: dbs.upper.queryPathInfo(`${dbs.upper.storeDir}/${baseName}`)?.narHash,
        lowerDbHash: dbs.lower.queryPathInfo(`${dbs.lower.storeDir}/${baseName}`)?.narHash,
      };
    });
    dbs.assertUnchanged('reading the duplicates');
    return found;
  });
  return {
    candidates: candidates.map((c) => ({ ...c, ...measure(`${layout.upperLayer}/${c.baseName}`) })),
    leftovers: upperListing.others.flatMap((other) => {
      const name = other.name.toString('latin1');
      const baseName = dedupeLeftoverOf(name);
      return baseName === undefined ? [] : [{ name, baseName }];
    }),
  };
}

function nameOf(listing: LayerListing, id: number): string {
  return listing.names?.get(id) ?? '';
}

function measure(upperPath: string): { bytes: number | undefined; bytesError: string | undefined } {
  try {
    return { bytes: allocatedBytesFreedByRemovalSync(upperPath), bytesError: undefined };
  } catch (error) {
    return { bytes: undefined, bytesError: messageOf(error) };
  }
}
