/** The one error type of store URL parsing, with a code per kind of mistake. */
import { WardenError } from '../errors/index.ts';

export const STORE_URL_ERROR_CODES = [
  /** A character Nix would not read as part of the URL (`#` starts a fragment, and a comment in nix.conf). */
  'STORE_URL_SYNTAX',
  /** Not a store type overlay-warden can use: unknown, or a store without a store dir on this file system (ssh, https, s3, file). */
  'STORE_URL_UNSUPPORTED_TYPE',
  /** `local-overlay://something?…`: the overlay store takes everything from its parameters. */
  'STORE_URL_PATH_NOT_ALLOWED',
  /** A path that must be absolute is not (Nix would resolve it against its working directory). */
  'STORE_URL_RELATIVE_PATH',
  /** A path parameter given as `name=` (Nix rejects empty paths). */
  'STORE_URL_EMPTY_PATH',
  /** A `%` not followed by two hex digits, or escapes that are not UTF-8. */
  'STORE_URL_BAD_ESCAPE',
  /** A query item without `=` (Nix ignores it with a warning; here it is an error). */
  'STORE_URL_PARAM_WITHOUT_VALUE',
  /** The same parameter twice (Nix silently keeps the first). */
  'STORE_URL_DUPLICATE_PARAM',
  /** A parameter the store type does not have (Nix only warns "unknown setting"). */
  'STORE_URL_UNKNOWN_PARAM',
  /** A required parameter is absent (`upper-layer` for local-overlay). */
  'STORE_URL_MISSING_PARAM',
  /** A boolean parameter with a value other than true/false/yes/no/1/0. */
  'STORE_URL_BAD_BOOLEAN',
  /** A numeric parameter with a value that is not an integer (of the right sign). */
  'STORE_URL_BAD_INTEGER',
  /** A root given twice, as a path (`/x?…`, `local:///x?…`) and as `root=`, with different values. */
  'STORE_URL_CONFLICTING_ROOT',
  /** Lower stores nested deeper than overlay-warden follows. */
  'STORE_URL_NESTED_TOO_DEEP',
  /**
   * A NUL byte in the URL, or `%00` in a parameter's name or value. Nix decodes `%00` in a query to a NUL and keeps
   * it (it refuses NUL only in a URL's path components), and a path holding one reaches the kernel as a C string
   * cut short at the NUL: Nix would use another directory than the one written.
   */
  'STORE_URL_NUL_BYTE',
] as const;

export type StoreUrlErrorCode = (typeof STORE_URL_ERROR_CODES)[number];

/**
 * A store URL overlay-warden cannot use. `evidence` carries `url` (the URL at
 * the level where the problem is), `within` (the parameters leading to it, e.g.
 * `['lower-store']`), and when about one parameter: `param`, `value`, `expected`.
 */
export class StoreUrlError extends WardenError<StoreUrlErrorCode> {}
