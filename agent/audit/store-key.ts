/** A store path base name packed into a fixed 24-byte key: the 32-char hash part in 20 bytes, plus a hash of the name (pure). */
import { isValidStorePathName, STORE_PATH_HASH_LENGTH } from '../store/store-path.ts';

/** Bytes in a key: 20 for the hash part (32 digits × 5 bits), 4 for an FNV-1a hash of the name after the dash. */
export const STORE_KEY_BYTES = 24;

/** Digit value of each Nix base-32 char (by char code), -1 for others. */
const DIGIT = new Int8Array(128).fill(-1);
for (const [value, char] of [...'0123456789abcdfghijklmnpqrsvwxyz'].entries()) DIGIT[char.charCodeAt(0)] = value;

/**
 * Packs the base name of a store path (`<hash>-<name>`, no directory) into `out` at `offset`. The hash part's
 * 32 digits become 160 bits, eight digits per 5 bytes (an injective packing, not Nix's byte order: keys are only
 * compared with each other). The name is folded into 4 bytes so that two entries with one hash part but different
 * names (which Nix never makes, but a stray could) get different keys with near certainty.
 * Returns false, writing nothing useful, when `baseName` is not a valid store path name (isValidStorePathName).
 */
export function packStoreKey(baseName: string, out: Uint8Array, offset: number): boolean {
  if (!isValidStorePathName(baseName)) return false;
  for (let group = 0; group < 4; group++) {
    let high = 0; // first 5 digits: 25 bits
    let low = 0; // last 3 digits: 15 bits
    const start = group * 8;
    for (let i = 0; i < 5; i++) high = (high << 5) | (DIGIT[baseName.charCodeAt(start + i)] as number);
    for (let i = 5; i < 8; i++) low = (low << 5) | (DIGIT[baseName.charCodeAt(start + i)] as number);
    // 40 bits = high (25) : low (15), written big-endian into 5 bytes.
    const at = offset + group * 5;
    out[at] = high >>> 17;
    out[at + 1] = (high >>> 9) & 0xff;
    out[at + 2] = (high >>> 1) & 0xff;
    out[at + 3] = ((high & 1) << 7) | (low >>> 8);
    out[at + 4] = low & 0xff;
  }
  let h = 0x811c9dc5;
  for (let i = STORE_PATH_HASH_LENGTH + 1; i < baseName.length; i++) h = Math.imul(h ^ baseName.charCodeAt(i), 0x01000193);
  out[offset + 20] = h >>> 24;
  out[offset + 21] = (h >>> 16) & 0xff;
  out[offset + 22] = (h >>> 8) & 0xff;
  out[offset + 23] = h & 0xff;
  return true;
}

const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

/** The 32-char hash part a key was packed from (the inverse of packStoreKey's first 20 bytes; pure). */
export function unpackHashPart(key: Uint8Array, offset = 0): string {
  let out = '';
  for (let group = 0; group < 4; group++) {
    const at = offset + group * 5;
    const high = ((key[at] as number) << 17) | ((key[at + 1] as number) << 9) | ((key[at + 2] as number) << 1) | ((key[at + 3] as number) >>> 7);
    const low = (((key[at + 3] as number) & 0x7f) << 8) | (key[at + 4] as number);
    for (let i = 4; i >= 0; i--) out += ALPHABET[(high >>> (i * 5)) & 31];
    for (let i = 2; i >= 0; i--) out += ALPHABET[(low >>> (i * 5)) & 31];
  }
  return out;
}

/** The base name of a full store path under `storeDir` (`/nix/store/x-y` → `x-y`), or undefined when it is not directly under it. */
export function baseNameIn(storeDir: string, storePath: string): string | undefined {
  const prefixLength = storeDir.length + 1;
  if (storePath.length <= prefixLength || !storePath.startsWith(storeDir) || storePath.charCodeAt(storeDir.length) !== 0x2f) return undefined;
  const baseName = storePath.slice(prefixLength);
  return baseName.includes('/') ? undefined : baseName;
}
