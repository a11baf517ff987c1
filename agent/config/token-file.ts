/**
 * Secret files: the HTTP bearer token file (`http.tokenFile`) and the webhook HMAC secret (`alerts.webhooks[].secretFile`).
 * A secret allows control actions or forges alerts, so only root (or the agent's user) may write or read it.
 */
import { KIB, readTrustedFile, checkTrustedFile } from '../trust/index.ts';
import { ConfigError } from './config-error.ts';
import { fileReadError } from './config-file.ts';

/** The most bytes of a token or secret file read. */
export const TOKEN_FILE_MAX_BYTES = 4 * KIB;

/** Which secret a file holds: how messages name it, and the key that names the file. */
export interface SecretFileRole {
  readonly what: string;
  readonly key: string;
}

const TOKEN: SecretFileRole = { what: 'HTTP token file', key: 'http.tokenFile' };

/** The webhook HMAC secret's role. */
export const WEBHOOK_SECRET: SecretFileRole = { what: 'webhook secret file', key: 'alerts.webhooks.secretFile' };

/**
 * Checks a secret file without reading it: a regular file reached through trusted directories, owned by root or
 * the agent's user, writable and readable by nobody else. Throws ConfigError CONFIG_NOT_FOUND, CONFIG_UNREADABLE or
 * CONFIG_INSECURE.
 */
export function checkSecretFile(file: string, role: SecretFileRole): void {
  try {
    checkTrustedFile(file, { what: role.what, secret: true });
  } catch (cause) {
    throw fileReadError(file, role.what, cause);
  }
}

/**
 * The secret, read from the checked descriptor, surrounding whitespace removed. Throws what checkSecretFile throws,
 * CONFIG_TOO_LARGE, and CONFIG_INVALID for an empty file.
 */
export function readSecretFile(file: string, role: SecretFileRole): string {
  let secret: string;
  try {
    secret = readTrustedFile(file, { what: role.what, secret: true, maxBytes: TOKEN_FILE_MAX_BYTES }).bytes.toString('utf8').trim();
  } catch (cause) {
    throw fileReadError(file, role.what, cause);
  }
  if (secret === '') {
    const problem = { key: role.key, value: file, expected: 'a file holding the secret', source: file };
    throw new ConfigError('CONFIG_INVALID', `the ${role.what} ${file} is empty`, [problem], { hint: 'write the secret into it' });
  }
  return secret;
}

/** checkSecretFile for the HTTP token file. */
export function checkTokenFile(file: string): void {
  checkSecretFile(file, TOKEN);
}

/** readSecretFile for the HTTP token file. */
export function readTokenFile(file: string): string {
  return readSecretFile(file, TOKEN);
}
