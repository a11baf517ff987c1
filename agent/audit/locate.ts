/** Where the content of each upper-DB registration is, as the merged view would show it (pure). */
import { isWhiteout } from '../mount/index.ts';
import type { DbIndex } from './db-index.ts';
import { kindAt, type LayerKeySet, type LayerListing } from './layer-listing.ts';

/**
 * `upper`: the upper layer has it (it wins in the merged view). `lower`: only the lower layer has it.
 * `masked`: the upper layer has a whiteout over a lower copy: the merged view hides it. `gone`: neither layer has it
 * (a whiteout over nothing counts as nothing).
 */
export const LOCATIONS = ['upper', 'lower', 'masked', 'gone'] as const;
export type Location = (typeof LOCATIONS)[number];
export const LOCATION_CODE: { readonly [L in Location]: number } = { upper: 0, lower: 1, masked: 2, gone: 3 };

/**
 * The location (a LOCATION_CODE) of a key in the two layers. An upper entry is a whiteout when its kind says so
 * (either form: an xattr whiteout only once applyOverlayMarks read its xattrs).
 */
function locateKey(key: Uint8Array, upper: LayerListing, lower: LayerKeySet): number {
  const upperId = upper.keys.find(key);
  const inLower = lower.has(key);
  if (upperId >= 0) {
    if (!isWhiteout(kindAt(upper, upperId))) return LOCATION_CODE.upper;
    return inLower ? LOCATION_CODE.masked : LOCATION_CODE.gone;
  }
  return inLower ? LOCATION_CODE.lower : LOCATION_CODE.gone;
}

/** LOCATION_CODE of every row of `db` (normally the upper DB). */
export function locateRows(db: DbIndex, upper: LayerListing, lower: LayerKeySet): Uint8Array {
  const locations = new Uint8Array(db.count);
  for (let row = 0; row < db.count; row++) locations[row] = locateKey(db.keys.keyAt(row), upper, lower);
  return locations;
}
