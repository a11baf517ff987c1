/** Where the content of each upper-DB registration is, as the merged view would show it (pure). */
import { KIND_CODE, type EntrySet, type LayerListing } from './layer-listing.ts';
import type { DbIndex } from './db-index.ts';
import type { XattrProbe } from './overlay-xattrs.ts';

/**
 * `upper`: the upper layer has it (it wins in the merged view). `lower`: only the lower layer has it.
 * `masked`: the upper layer has a whiteout over a lower copy: the merged view hides it. `gone`: neither layer has it
 * (a whiteout over nothing counts as nothing).
 */
export const LOCATIONS = ['upper', 'lower', 'masked', 'gone'] as const;
export type Location = (typeof LOCATIONS)[number];
export const LOCATION_CODE: { readonly [L in Location]: number } = { upper: 0, lower: 1, masked: 2, gone: 3 };

/** True when the upper entry with listing id `id` is a whiteout: a 0/0 character device, or a file marked by xattr. */
export function isUpperWhiteout(upper: LayerListing, id: number, xattrs: XattrProbe): boolean {
  const kind = upper.kinds[id];
  if (kind === KIND_CODE.whiteout) return true;
  if (kind !== KIND_CODE.file || !xattrs.available || upper.names === undefined) return false;
  return xattrs.marks.get(`${upper.dir}/${upper.names.get(id)}`)?.whiteout === true;
}

/** The location (a LOCATION_CODE) of a key in the two layers. */
export function locateKey(key: Uint8Array, upper: LayerListing, lower: EntrySet, xattrs: XattrProbe): number {
  const upperId = upper.keys.find(key);
  const inLower = lower.has(key);
  if (upperId >= 0) {
    if (!isUpperWhiteout(upper, upperId, xattrs)) return LOCATION_CODE.upper;
    return inLower ? LOCATION_CODE.masked : LOCATION_CODE.gone;
  }
  return inLower ? LOCATION_CODE.lower : LOCATION_CODE.gone;
}

/** LOCATION_CODE of every row of `db` (normally the upper DB). */
export function locateRows(db: DbIndex, upper: LayerListing, lower: EntrySet, xattrs: XattrProbe): Uint8Array {
  const locations = new Uint8Array(db.count);
  for (let row = 0; row < db.count; row++) locations[row] = locateKey(db.keys.keyAt(row), upper, lower, xattrs);
  return locations;
}
