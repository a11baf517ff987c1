/** Nix's base-32 ("nix32"): its own alphabet, and bytes read from the end, least significant bits first. */
import { WardenError } from '../errors/index.ts';

/** The 32 digits Nix uses: 0-9 and a-z without e, o, t, u. */
export const NIX_BASE32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

export type NixBase32ErrorCode = 'NIX_BASE32_INVALID_CHAR' | 'NIX_BASE32_INVALID_LENGTH' | 'NIX_BASE32_EXCESS_BITS';

/** A string that is not the Nix base-32 form of any byte string (of the expected length). */
export class NixBase32Error extends WardenError<NixBase32ErrorCode> {}

/** Digit value per char code (0-127), -1 for chars outside the alphabet. */
const DIGIT_OF = new Int8Array(128).fill(-1);
for (let d = 0; d < NIX_BASE32_ALPHABET.length; d++) DIGIT_OF[NIX_BASE32_ALPHABET.charCodeAt(d)] = d;

/** True when `charCode` is one of the 32 Nix base-32 digits. */
export function isNixBase32Char(charCode: number): boolean {
  return charCode < 128 && (DIGIT_OF[charCode] as number) >= 0;
}

/** The value (0-31) of the Nix base-32 digit with char code `charCode`, or -1 when it is not one. */
export function nixBase32Digit(charCode: number): number {
  return charCode < 128 ? (DIGIT_OF[charCode] as number) : -1;
}

/** Length of the Nix base-32 form of `byteLength` bytes: ceil(8n / 5), 0 for 0 (Nix's `base32Len`). */
export function nixBase32Length(byteLength: number): number {
  return byteLength === 0 ? 0 : Math.floor((byteLength * 8 - 1) / 5) + 1;
}

/**
 * Encodes bytes the way Nix prints hashes in base 32. The first character carries the
 * highest 5-bit group of the bytes read as one little-endian number; groups may span two bytes.
 */
export function encodeNixBase32(bytes: Uint8Array): string {
  const length = nixBase32Length(bytes.length);
  let out = '';
  for (let n = length - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = bit >>> 3;
    const shift = bit & 7;
    const low = (bytes[i] as number) >>> shift;
    const high = i + 1 < bytes.length ? (bytes[i + 1] as number) << (8 - shift) : 0;
    out += NIX_BASE32_ALPHABET[(low | high) & 0x1f];
  }
  return out;
}

/**
 * Decodes a Nix base-32 string. The byte length is derived from the string length
 * (52 chars → 32 bytes, 32 chars → 20 bytes); pass `byteLength` to require one.
 * Like Nix, rejects set bits beyond the last byte.
 * @throws NixBase32Error NIX_BASE32_INVALID_LENGTH (no byte string encodes to this length, or not `byteLength`),
 *   NIX_BASE32_INVALID_CHAR (evidence: the char and its index), NIX_BASE32_EXCESS_BITS.
 */
export function decodeNixBase32(s: string, byteLength?: number): Uint8Array {
  const size = byteLength ?? Math.floor((s.length * 5) / 8);
  if (nixBase32Length(size) !== s.length) {
    throw new NixBase32Error(
      'NIX_BASE32_INVALID_LENGTH',
      `'${s}' has ${s.length} chars: not the Nix base-32 length of ${byteLength === undefined ? 'any byte string' : `${byteLength} bytes (${nixBase32Length(byteLength)})`}`,
      {
        evidence: { value: s, length: s.length, ...(byteLength === undefined ? {} : { expectedLength: nixBase32Length(byteLength) }) },
      },
    );
  }
  const bytes = new Uint8Array(size);
  for (let n = 0; n < s.length; n++) {
    const index = s.length - 1 - n;
    const digit = nixBase32Digit(s.charCodeAt(index));
    if (digit < 0) {
      throw new NixBase32Error('NIX_BASE32_INVALID_CHAR', `'${s}' has ${JSON.stringify(s[index])} at index ${index}, not a Nix base-32 digit`, {
        evidence: { value: s, char: s[index], index },
        hint: `Nix base-32 digits are ${NIX_BASE32_ALPHABET} (no e, o, t, u)`,
      });
    }
    const bit = n * 5;
    const i = bit >>> 3;
    const shift = bit & 7;
    bytes[i] = (bytes[i] as number) | ((digit << shift) & 0xff);
    const carry = digit >>> (8 - shift);
    if (i + 1 < size) bytes[i + 1] = (bytes[i + 1] as number) | carry;
    else if (carry !== 0) {
      throw new NixBase32Error('NIX_BASE32_EXCESS_BITS', `'${s}' sets bits beyond its ${size} bytes (first char too large)`, { evidence: { value: s, index } });
    }
  }
  return bytes;
}
