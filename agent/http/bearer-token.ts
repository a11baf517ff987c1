/** The bearer-token check of HTTP control actions (pure): constant-time, so timing tells nothing of the token. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** `ok`, `missing` (no `Authorization: Bearer …`: 401), or `wrong` (403). */
export type BearerVerdict = 'ok' | 'missing' | 'wrong';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Judges an `Authorization` header against `token`. Both sides are hashed first so that the comparison takes the
 * same time whatever the length or content of the guess; the scheme is case-insensitive as RFC 7235 says.
 */
export function checkBearer(header: string | undefined, token: string): BearerVerdict {
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  if (match === null) return 'missing';
  return timingSafeEqual(digest(match[1]!), digest(token)) ? 'ok' : 'wrong';
}
