/** The text forms of a narHash (SHA-256): the DB's base-16, narinfo's Nix base-32, SRI and prefixed base64. */
import { WardenError } from '../errors/index.ts';
import { decodeNixBase32, encodeNixBase32 } from './nix-base32.ts';

/** Bytes in a SHA-256 digest. */
export const SHA256_BYTES = 32;

/**
 * The forms Nix writes: `base16` = `sha256:<64 hex>` (ValidPaths.hash), `nix32` = `sha256:<52 chars>`
 * (narinfo, `nix-hash --base32`), `sri` = `sha256-<base64>` (`nix path-info --json`), `base64` = `sha256:<base64>`.
 */
export const NAR_HASH_FORMS = ['base16', 'nix32', 'sri', 'base64'] as const;
export type NarHashForm = (typeof NAR_HASH_FORMS)[number];

export type NarHashStringErrorCode = 'NAR_HASH_NO_ALGORITHM' | 'NAR_HASH_UNSUPPORTED_ALGORITHM' | 'NAR_HASH_BAD_LENGTH' | 'NAR_HASH_BAD_ENCODING';

/** A string that is not a SHA-256 hash in one of the accepted forms; `evidence.value` holds it. */
export class NarHashStringError extends WardenError<NarHashStringErrorCode> {}

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]{43}=$/;
/** Hash names Nix knows, so that `md5:`… is reported as unsupported rather than malformed. */
const KNOWN_ALGORITHMS = new Set(['md5', 'sha1', 'sha256', 'sha512', 'blake3']);

/**
 * Parses a SHA-256 hash as Nix writes it in any of NAR_HASH_FORMS and returns its 32 bytes; as in Nix, the form
 * after `sha256:` is chosen by length (64 hex, 52 Nix base-32, 44 base64), and SRI is always base64. Hex may be upper
 * case.
 * @throws NarHashStringError NAR_HASH_NO_ALGORITHM (no `<algo>:` or `<algo>-` prefix), NAR_HASH_UNSUPPORTED_ALGORITHM
 *   (not sha256), NAR_HASH_BAD_LENGTH (no form has that length), NAR_HASH_BAD_ENCODING (bad chars for the form).
 */
export function parseNarHash(value: string): Buffer {
  const colon = value.indexOf(':');
  const dash = value.indexOf('-');
  const isSri = colon < 0 || (dash >= 0 && dash < colon);
  const separator = isSri ? dash : colon;
  const algorithm = separator < 0 ? '' : value.slice(0, separator);
  if (separator <= 0 || !/^[a-z0-9]+$/.test(algorithm)) {
    throw new NarHashStringError('NAR_HASH_NO_ALGORITHM', `'${value}' does not start with 'sha256:' or 'sha256-'`, { evidence: { value } });
  }
  if (algorithm !== 'sha256') {
    const known = KNOWN_ALGORITHMS.has(algorithm);
    throw new NarHashStringError(
      'NAR_HASH_UNSUPPORTED_ALGORITHM',
      `'${value}' is a ${known ? '' : 'hash of unknown type '}${algorithm} hash; a narHash is sha256`,
      { evidence: { value, algorithm } },
    );
  }
  const digest = value.slice(separator + 1);
  if (isSri || digest.length === 44) return decodeBase64(value, digest);
  if (digest.length === 64) {
    if (!HEX.test(digest)) throw badEncoding(value, 'base-16');
    return Buffer.from(digest, 'hex');
  }
  if (digest.length === 52) {
    try {
      return Buffer.from(decodeNixBase32(digest, SHA256_BYTES));
    } catch (cause) {
      throw badEncoding(value, 'Nix base-32', cause);
    }
  }
  throw new NarHashStringError(
    'NAR_HASH_BAD_LENGTH',
    `'${value}' has ${digest.length} chars after 'sha256:': expected 64 (base-16), 52 (Nix base-32) or 44 (base64)`,
    {
      evidence: { value, digestLength: digest.length },
    },
  );
}

/** Formats a 32-byte SHA-256 digest in one of NAR_HASH_FORMS (default `base16`, the DB's form). */
export function formatNarHash(hash: Uint8Array, form: NarHashForm = 'base16'): string {
  if (hash.length !== SHA256_BYTES) throw new RangeError(`a SHA-256 digest has ${SHA256_BYTES} bytes, got ${hash.length}`);
  const bytes = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength);
  switch (form) {
    case 'base16':
      return `sha256:${bytes.toString('hex')}`;
    case 'nix32':
      return `sha256:${encodeNixBase32(bytes)}`;
    case 'sri':
      return `sha256-${bytes.toString('base64')}`;
    case 'base64':
      return `sha256:${bytes.toString('base64')}`;
  }
}

function decodeBase64(value: string, digest: string): Buffer {
  if (digest.length !== 44) {
    throw new NarHashStringError('NAR_HASH_BAD_LENGTH', `'${value}' has ${digest.length} base64 chars, a SHA-256 digest has 44`, {
      evidence: { value, digestLength: digest.length },
    });
  }
  if (!BASE64.test(digest)) throw badEncoding(value, 'base64');
  return Buffer.from(digest, 'base64');
}

function badEncoding(value: string, encoding: string, cause?: unknown): NarHashStringError {
  return new NarHashStringError('NAR_HASH_BAD_ENCODING', `'${value}' is not valid ${encoding}`, { evidence: { value, encoding }, cause });
}
