/** The objects to hash for store paths named on the command line, and what each DB expects of them. */
import type { Finding } from '../findings/index.ts';
import { canonAbsolutePath } from '../store/canon-path.ts';
import { parseNarHash } from '../store/nar-hash-string.ts';
import type { NixDb } from '../store/nix-db.ts';
import type { PathInfo } from '../store/nix-db-rows.ts';
import type { StoreLayout } from '../store/store-layout.ts';
import { AuditError } from './audit-error.ts';
import { vanished, type Expectation, type VerifyItem } from './find-corrupt.ts';
import { KIND_CODE, type LayerListing } from './layer-listing.ts';
import { baseNameIn, packStoreKey, STORE_KEY_BYTES } from './store-key.ts';

export interface PathSources {
  readonly layout: StoreLayout;
  readonly upperDb: Pick<NixDb, 'queryPathInfo' | 'file'>;
  readonly lowerDb: Pick<NixDb, 'queryPathInfo' | 'file'>;
  readonly upperListing: LayerListing;
}

/** The 32 bytes of a narHash in any of Nix's forms, or undefined when it is none. */
export function narHashBytes(value: string): Buffer | undefined {
  try {
    return parseNarHash(value);
  } catch {
    return undefined;
  }
}

/**
 * The base name of a path given by a user: a store path in the logical store dir or in the merged store dir
 * (`/nix/store/x-y`, `/mnt/merged/nix/store/x-y`), normalised lexically (pure).
 * @throws AuditError AUDIT_BAD_PATH naming the path and both dirs.
 */
export function userPathBaseName(layout: Pick<StoreLayout, 'storeDir' | 'mergedStoreDir'>, given: string): string {
  const canonical = canonAbsolutePath(given);
  const baseName = canonical === undefined ? undefined : (baseNameIn(layout.storeDir, canonical) ?? baseNameIn(layout.mergedStoreDir, canonical));
  if (baseName === undefined || !packStoreKey(baseName, Buffer.alloc(STORE_KEY_BYTES), 0)) {
    throw new AuditError('AUDIT_BAD_PATH', `'${given}' is not a store path in ${layout.storeDir} or ${layout.mergedStoreDir}`, {
      evidence: { path: given, storeDir: layout.storeDir, mergedStoreDir: layout.mergedStoreDir },
      hint: `give store paths such as ${layout.storeDir}/<hash>-<name>`,
    });
  }
  return baseName;
}

/**
 * Items for the given paths: the upper copy (when the upper layer has one) against the upper DB, the lower copy
 * against the lower DB, and a lower copy alone against both DBs. A path the upper DB registers but a whiteout
 * hides becomes a `store.corrupt` (vanished) finding in `findings`.
 * @throws AuditError AUDIT_BAD_PATH, AUDIT_UNKNOWN_PATH (registered in neither DB); NixDbError.
 */
export function resolveVerifyPaths(paths: readonly string[], sources: PathSources, findings: Finding[]): VerifyItem[] {
  const { layout, upperDb, lowerDb, upperListing } = sources;
  const items: VerifyItem[] = [];
  const key = Buffer.alloc(STORE_KEY_BYTES);
  for (const given of paths) {
    const baseName = userPathBaseName(layout, given);
    const path = `${layout.storeDir}/${baseName}`;
    const upperInfo = upperDb.queryPathInfo(path);
    const lowerInfo = lowerDb.queryPathInfo(path);
    if (upperInfo === undefined && lowerInfo === undefined) {
      throw new AuditError('AUDIT_UNKNOWN_PATH', `${path} is registered in neither the upper nor the lower DB`, {
        evidence: { path, upperDb: upperDb.file, lowerDb: lowerDb.file },
        hint: 'nothing to verify: check the path (nix-store -q --hash PATH)',
      });
    }
    packStoreKey(baseName, key, 0);
    const id = upperListing.keys.find(key);
    const upperFile = `${layout.upperLayer}/${baseName}`;
    const lowerFile = `${layout.lower.realStoreDir}/${baseName}`;
    const expect = (db: 'upper' | 'lower', info: PathInfo | undefined, file: string): Expectation[] => {
      const hash = info === undefined ? undefined : narHashBytes(info.narHash);
      return info === undefined || hash === undefined ? [] : [{ db, dbFile: file, narHash: hash, narSize: info.narSize }];
    };
    if (id >= 0 && upperListing.kinds[id] !== KIND_CODE.whiteout) {
      if (upperInfo !== undefined) items.push({ path, file: upperFile, layer: 'upper', expected: expect('upper', upperInfo, upperDb.file) });
      if (lowerInfo !== undefined) items.push({ path, file: lowerFile, layer: 'lower', expected: expect('lower', lowerInfo, lowerDb.file) });
    } else if (id >= 0) {
      if (upperInfo !== undefined) findings.push(vanished(path, upperFile, 'upper', ['upper'], 'whiteout'));
      if (lowerInfo !== undefined) items.push({ path, file: lowerFile, layer: 'lower', expected: expect('lower', lowerInfo, lowerDb.file) });
    } else {
      items.push({ path, file: lowerFile, layer: 'lower', expected: [...expect('upper', upperInfo, upperDb.file), ...expect('lower', lowerInfo, lowerDb.file)] });
    }
  }
  return items;
}
