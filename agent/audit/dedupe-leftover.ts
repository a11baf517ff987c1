/** The names `dedupe` gives upper copies it has set aside before deleting them, shared by the repair and the audit (pure). */
import { writeStorePathKey, STORE_PATH_KEY_BYTES } from '../store/index.ts';

/**
 * What a set-aside copy's name starts with. It starts with a dot, so it can never be a store path name (Nix refuses
 * names starting with `.`): Nix ignores the entry, and OverlayFS serves it under that name only, never as the path.
 */
export const DEDUPE_LEFTOVER_PREFIX = '.overlay-warden-dedupe-';

/** The name a copy of the store path named `baseName` is set aside under. */
export function dedupeLeftoverName(baseName: string): string {
  return `${DEDUPE_LEFTOVER_PREFIX}${baseName}`;
}

/**
 * The store path name a leftover stands for, or undefined when `name` is not a leftover's (the prefix, then a valid
 * store path name): only such entries are ever deleted as leftovers.
 */
export function dedupeLeftoverOf(name: string): string | undefined {
  if (!name.startsWith(DEDUPE_LEFTOVER_PREFIX)) return undefined;
  const baseName = name.slice(DEDUPE_LEFTOVER_PREFIX.length);
  return writeStorePathKey(baseName, Buffer.alloc(STORE_PATH_KEY_BYTES), 0) ? baseName : undefined;
}
