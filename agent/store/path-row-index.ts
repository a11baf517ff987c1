/**
 * Finds a store path's row among sorted paths by number rather than by string: each row's key is the value of its
 * hash part's first 10 Nix base-32 digits (50 bits, exact in a double), and the alphabet is in ASCII order, so the
 * keys ascend with the paths. A binary search over a Float64Array, then a string comparison or two: many times
 * faster than comparing strings all the way down (a daemon snapshot looks up every reference of every path).
 */
import { nixBase32Digit } from './nix-base32.ts';

const KEY_DIGITS = 10;

/** The key of `path` (its hash part starting at `offset`), or -1 when those chars are not base-32 digits (pure). */
export function hashKeyOf(path: string, offset: number): number {
  let key = 0;
  for (let i = 0; i < KEY_DIGITS; i++) {
    const digit = nixBase32Digit(path.charCodeAt(offset + i));
    if (digit < 0) return -1;
    key = key * 32 + digit;
  }
  return key;
}

/** The keys of `paths` (sorted store paths under `storeDir`) (pure). */
export function hashKeysOf(paths: readonly string[], storeDir: string): Float64Array {
  const keys = new Float64Array(paths.length);
  for (let i = 0; i < paths.length; i++) keys[i] = hashKeyOf(paths[i] as string, storeDir.length + 1);
  return keys;
}

/** The row of `path` in `paths` (sorted, with `keys` from hashKeysOf), or -1 when it is not there (pure). */
export function rowOfPath(paths: readonly string[], keys: Float64Array, storeDir: string, path: string): number {
  if (!path.startsWith(storeDir) || path.charCodeAt(storeDir.length) !== 0x2f) return -1;
  const key = hashKeyOf(path, storeDir.length + 1);
  if (key < 0) return -1;
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((keys[mid] as number) < key) low = mid + 1;
    else high = mid;
  }
  // Paths that share the key's 10 digits are next to each other.
  for (let row = low; row < keys.length && keys[row] === key; row++) if (paths[row] === path) return row;
  return -1;
}
