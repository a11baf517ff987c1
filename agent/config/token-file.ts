/** The HTTP bearer token file (`http.tokenFile`): a secret that allows control actions, so only root (or the agent's user) may write or read it. */
import { KIB, readTrustedFile, checkTrustedFile } from '../trust/index.ts';
import { ConfigError } from './config-error.ts';
import { fileReadError } from './config-file.ts';

/** The most bytes of a token file read. */
export const TOKEN_FILE_MAX_BYTES = 4 * KIB;

const WHAT = 'HTTP token file';

/**
 * Checks the token file without reading it: a regular file reached through trusted directories, owned by root or
 * the agent's user, writable and readable by nobody else. Throws ConfigError CONFIG_NOT_FOUND, CONFIG_UNREADABLE or
 * CONFIG_INSECURE.
 */
export function checkTokenFile(file: string): void {
  try {
    checkTrustedFile(file, { what: WHAT, secret: true });
  } catch (cause) {
    throw fileReadError(file, WHAT, cause);
  }
}

/**
 * The token, read from the checked descriptor, surrounding whitespace removed. Throws what checkTokenFile throws,
 * CONFIG_TOO_LARGE, and CONFIG_INVALID for an empty file.
 */
export function readTokenFile(file: string): string {
  let token: string;
  try {
    token = readTrustedFile(file, { what: WHAT, secret: true, maxBytes: TOKEN_FILE_MAX_BYTES }).bytes.toString('utf8').trim();
  } catch (cause) {
    throw fileReadError(file, WHAT, cause);
  }
  if (token === '') {
    const problem = { key: 'http.tokenFile', value: file, expected: 'a file holding the token', source: file };
    throw new ConfigError('CONFIG_INVALID', `the ${WHAT} ${file} is empty`, [problem], { hint: 'write the token into it' });
  }
  return token;
}
