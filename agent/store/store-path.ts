/** Store path names (`<32-char hash>-<name>`) and full store paths: validation with Nix's rules. */
import { WardenError } from '../errors/index.ts';
import { canonAbsolutePath } from '../mount/index.ts';
import { isNixBase32Char } from './nix-base32.ts';

/** Chars in the hash part: 20 bytes in Nix base-32. */
export const STORE_PATH_HASH_LENGTH = 32;
/** Longest name Nix accepts (`StorePath::MaxPathLen`). */
export const STORE_PATH_NAME_MAX_LENGTH = 211;

export type StorePathErrorCode =
  | 'STORE_PATH_HASH_LENGTH'
  | 'STORE_PATH_HASH_CHAR'
  | 'STORE_PATH_NAME_EMPTY'
  | 'STORE_PATH_NAME_TOO_LONG'
  | 'STORE_PATH_NAME_CHAR'
  | 'STORE_PATH_NAME_LEADING_DOT'
  | 'STORE_PATH_NOT_ABSOLUTE'
  | 'STORE_PATH_OUTSIDE_STORE';

/** A string that is not a valid store path (or store path base name); `evidence.value` holds it. */
export class StorePathError extends WardenError<StorePathErrorCode> {}

/** The two parts of a store path base name. */
export interface StorePathName {
  /** The 32 Nix base-32 chars before the first dash. */
  readonly hashPart: string;
  /** Everything after that dash. */
  readonly name: string;
}

/** A parsed full store path. */
export interface ParsedStorePath extends StorePathName {
  /** `<hashPart>-<name>`. */
  readonly baseName: string;
}

/** 1 for chars allowed in a name: [A-Za-z0-9+\-._?=]. */
const NAME_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=') NAME_CHAR[c.charCodeAt(0)] = 1;

/**
 * What is wrong with `baseName` as a store path base name, or undefined when it is valid.
 * Rules (Nix's libstore path.cc): 32 Nix base-32 chars, a dash, then a name of 1 to 211 chars from
 * [A-Za-z0-9+\-._?=]. Unlike Nix 2.8, which only assumes the dash, it must be there. Like Nix 2.3 and
 * 2.20-2.23, a name may not start with `.` (newer Nix only forbids `.`, `..` and `.-…`/`..-…` names).
 */
function problemOf(baseName: string): { code: StorePathErrorCode; message: string; evidence: Record<string, unknown> } | undefined {
  const dash = baseName.indexOf('-');
  if (dash !== STORE_PATH_HASH_LENGTH) {
    const hashLength = dash < 0 ? baseName.length : dash;
    return {
      code: 'STORE_PATH_HASH_LENGTH',
      message: `hash part has ${hashLength} chars before the first '-', expected ${STORE_PATH_HASH_LENGTH}`,
      evidence: { hashLength },
    };
  }
  for (let i = 0; i < STORE_PATH_HASH_LENGTH; i++) {
    if (!isNixBase32Char(baseName.charCodeAt(i))) {
      return {
        code: 'STORE_PATH_HASH_CHAR',
        message: `hash part has ${JSON.stringify(baseName[i])} at index ${i}, not a Nix base-32 digit`,
        evidence: { char: baseName[i], index: i },
      };
    }
  }
  const nameLength = baseName.length - STORE_PATH_HASH_LENGTH - 1;
  if (nameLength === 0) return { code: 'STORE_PATH_NAME_EMPTY', message: 'name after the hash is empty', evidence: {} };
  if (nameLength > STORE_PATH_NAME_MAX_LENGTH) {
    return { code: 'STORE_PATH_NAME_TOO_LONG', message: `name has ${nameLength} chars, more than ${STORE_PATH_NAME_MAX_LENGTH}`, evidence: { nameLength } };
  }
  if (baseName.charCodeAt(STORE_PATH_HASH_LENGTH + 1) === 0x2e) return { code: 'STORE_PATH_NAME_LEADING_DOT', message: "name starts with '.'", evidence: {} };
  for (let i = STORE_PATH_HASH_LENGTH + 1; i < baseName.length; i++) {
    const code = baseName.charCodeAt(i);
    if (code >= 128 || NAME_CHAR[code] === 0) {
      return {
        code: 'STORE_PATH_NAME_CHAR',
        message: `name has ${JSON.stringify(baseName[i])} at index ${i}, allowed are [A-Za-z0-9+-._?=]`,
        evidence: { char: baseName[i], index: i },
      };
    }
  }
  return undefined;
}

/** True when `baseName` is a valid store path base name (see parseStorePathName). Never throws, allocates nothing. */
export function isValidStorePathName(baseName: string): boolean {
  if (baseName.length < STORE_PATH_HASH_LENGTH + 2 || baseName.length > STORE_PATH_HASH_LENGTH + 1 + STORE_PATH_NAME_MAX_LENGTH) return false;
  if (baseName.charCodeAt(STORE_PATH_HASH_LENGTH) !== 0x2d || baseName.charCodeAt(STORE_PATH_HASH_LENGTH + 1) === 0x2e) return false;
  for (let i = 0; i < STORE_PATH_HASH_LENGTH; i++) if (!isNixBase32Char(baseName.charCodeAt(i))) return false;
  for (let i = STORE_PATH_HASH_LENGTH + 1; i < baseName.length; i++) {
    const code = baseName.charCodeAt(i);
    if (code >= 128 || NAME_CHAR[code] === 0) return false;
  }
  return true;
}

/**
 * Splits a store path base name (`b6gvzjyb2pg0kjfwrjmg1vfhh54ad73z-firefox-33.1`) into hash part and name.
 * @throws StorePathError whose code names the broken rule: STORE_PATH_HASH_LENGTH, STORE_PATH_HASH_CHAR,
 *   STORE_PATH_NAME_EMPTY, STORE_PATH_NAME_TOO_LONG, STORE_PATH_NAME_LEADING_DOT, STORE_PATH_NAME_CHAR.
 */
export function parseStorePathName(baseName: string): StorePathName {
  const problem = problemOf(baseName);
  if (problem !== undefined) {
    throw new StorePathError(problem.code, `'${baseName}' is not a valid store path name: ${problem.message}`, {
      evidence: { value: baseName, ...problem.evidence },
    });
  }
  return { hashPart: baseName.slice(0, STORE_PATH_HASH_LENGTH), name: baseName.slice(STORE_PATH_HASH_LENGTH + 1) };
}

/**
 * Parses a full store path directly under `storeDir` (`/nix/store/<hash>-<name>`). Both are normalised
 * lexically first (duplicate and trailing slashes, `.`, `..`), as Nix's canonPath does; symlinks are not resolved.
 * Paths inside a store object (`/nix/store/<hash>-<name>/bin/x`) are outside the store dir itself and rejected.
 * @throws StorePathError STORE_PATH_NOT_ABSOLUTE, STORE_PATH_OUTSIDE_STORE, or a parseStorePathName code.
 */
export function parseStorePath(storeDir: string, fullPath: string): ParsedStorePath {
  const dir = canonAbsolutePath(storeDir);
  const canonical = canonAbsolutePath(fullPath);
  if (dir === undefined || canonical === undefined) {
    const [field, value] = dir === undefined ? ['storeDir', storeDir] : ['path', fullPath];
    throw new StorePathError('STORE_PATH_NOT_ABSOLUTE', `${field} '${value}' is not an absolute path`, { evidence: { field, value } });
  }
  const slash = canonical.lastIndexOf('/');
  if ((slash === 0 ? '/' : canonical.slice(0, slash)) !== dir || slash === canonical.length - 1) {
    throw new StorePathError('STORE_PATH_OUTSIDE_STORE', `'${fullPath}' is not directly in the store dir '${storeDir}'`, {
      evidence: { value: fullPath, storeDir },
    });
  }
  const baseName = canonical.slice(slash + 1);
  return { ...parseStorePathName(baseName), baseName };
}

/**
 * The base name of `storePath` when it lies directly under `storeDir` (`/nix/store/x-y` → `x-y`), else undefined.
 * Unlike parseStorePath, nothing is normalised and the name is not validated: a cheap filter for paths that are
 * canonical already, as the DB's are. Pure.
 */
export function baseNameIn(storeDir: string, storePath: string): string | undefined {
  const prefixLength = storeDir.length + 1;
  if (storePath.length <= prefixLength || !storePath.startsWith(storeDir) || storePath.charCodeAt(storeDir.length) !== 0x2f) return undefined;
  const baseName = storePath.slice(prefixLength);
  return baseName.includes('/') ? undefined : baseName;
}
