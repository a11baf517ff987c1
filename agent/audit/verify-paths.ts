/** Verify's reading of its inputs (pure): a store path named on the command line, a narHash as the DB stores it. */
import { canonAbsolutePath } from '../mount/index.ts';
import { parseNarHash, baseNameIn, STORE_PATH_KEY_BYTES, writeStorePathKey, type StoreLayout } from '../store/index.ts';
import { AuditError } from './audit-error.ts';

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
  if (baseName === undefined || !writeStorePathKey(baseName, Buffer.alloc(STORE_PATH_KEY_BYTES), 0)) {
    throw new AuditError('AUDIT_BAD_PATH', `'${given}' is not a store path in ${layout.storeDir} or ${layout.mergedStoreDir}`, {
      evidence: { path: given, storeDir: layout.storeDir, mergedStoreDir: layout.mergedStoreDir },
      hint: `give store paths such as ${layout.storeDir}/<hash>-<name>`,
    });
  }
  return baseName;
}
