/** Fixed-size keys of store path base names: the hash part's 20 bytes as Nix decodes them, then a 32-bit hash of the name. */
import { encodeNixBase32, nixBase32Digit } from './nix-base32.ts';
import { STORE_PATH_HASH_LENGTH, isValidStorePathName } from './store-path.ts';

/** Bytes of one key: 20 for the hash part, 4 for FNV-1a of the name part. */
export const STORE_PATH_KEY_BYTES = 24;
/** Bytes of the decoded hash part (160 bits in 32 base-32 digits). */
const HASH_PART_BYTES = 20;

/**
 * Writes the key of `baseName` (`<hash>-<name>`) at `offset` of `target` and returns true; returns false, writing
 * nothing, when `baseName` is not a valid store path name. The first 20 bytes are the hash part decoded as Nix
 * decodes base 32 (decodeNixBase32), so they are uniformly spread; the last 4 are FNV-1a of the name part. Two names
 * share a key only if their hash parts are equal and their name parts collide in FNV-1a (a store never holds two such
 * entries in practice; `abc-foo` and `abc-foo.lock` differ). Keys order bytewise (compareStorePathKeys); the
 * baseline file stores them in that order, so this layout is part of its format. Allocates nothing.
 */
export function writeStorePathKey(baseName: string, target: Uint8Array, offset: number): boolean {
  if (!isValidStorePathName(baseName)) return false;
  // Nix base-32 reads the bytes as one little-endian number, the last char carrying the lowest 5 bits: walk the
  // chars from the end, pushing 5 bits at a time into an accumulator and writing each full byte.
  let acc = 0;
  let bits = 0;
  let at = offset;
  for (let i = STORE_PATH_HASH_LENGTH - 1; i >= 0; i--) {
    acc |= nixBase32Digit(baseName.charCodeAt(i)) << bits;
    bits += 5;
    if (bits >= 8) {
      target[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  let h = 0x811c9dc5;
  for (let i = STORE_PATH_HASH_LENGTH + 1; i < baseName.length; i++) h = Math.imul(h ^ baseName.charCodeAt(i), 0x01000193);
  target[at] = h >>> 24;
  target[at + 1] = (h >>> 16) & 0xff;
  target[at + 2] = (h >>> 8) & 0xff;
  target[at + 3] = h & 0xff;
  return true;
}

/** The 32-char hash part of the key at `offset` of `keys` (the inverse of writeStorePathKey's first 20 bytes). Pure. */
export function hashPartOfKey(keys: Uint8Array, offset = 0): string {
  return encodeNixBase32(keys.subarray(offset, offset + HASH_PART_BYTES));
}

/** Compares the keys at byte offsets `a` of `keysA` and `b` of `keysB` bytewise: negative, 0 or positive. */
export function compareStorePathKeys(keysA: Uint8Array, a: number, keysB: Uint8Array, b: number): number {
  for (let i = 0; i < STORE_PATH_KEY_BYTES; i++) {
    const d = (keysA[a + i] as number) - (keysB[b + i] as number);
    if (d !== 0) return d;
  }
  return 0;
}
