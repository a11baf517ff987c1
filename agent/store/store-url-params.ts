/** Which parameters each Nix store type takes, of which value type, and how each value is read (as Nix does). */
import { canonAbsolutePath } from '../mount/index.ts';

/** The store types overlay-warden reads: the ones with a store dir on this machine's file system. */
export type StoreUrlKind = 'local' | 'daemon' | 'auto' | 'local-overlay';

/**
 * Value types of store settings in Nix: `path` is `AbsolutePath` (non-empty,
 * absolute, canonicalised), `optional-path` the same but empty means unset,
 * `bool` Nix's boolean words, `int`/`uint` decimal integers, `store-url` a
 * nested store URL (parsed by the caller), `string` anything.
 */
export type ParamType = 'path' | 'optional-path' | 'bool' | 'int' | 'uint' | 'string' | 'store-url';

// Settings are the union over Nix 2.20 to 2.3x and master (src/libstore:
// store-api.hh, local-fs-store.hh, local-store.hh, remote-store.hh,
// local-overlay-store.hh), so a URL valid for any of them is accepted.
const ANY_STORE = {
  store: 'path',
  'path-info-cache-size': 'int',
  trusted: 'bool',
  priority: 'int',
  'want-mass-query': 'bool',
  'system-features': 'string',
} as const;
const LOCAL_FS = { root: 'optional-path', state: 'path', log: 'path', real: 'path' } as const;
const LOCAL = {
  ...ANY_STORE,
  ...LOCAL_FS,
  'build-dir': 'optional-path',
  'require-sigs': 'bool',
  'read-only': 'bool',
  'ignore-gc-delete-failure': 'bool',
  'use-roots-daemon': 'bool',
} as const;
const DAEMON = { ...ANY_STORE, ...LOCAL_FS, 'max-connections': 'int', 'max-connection-age': 'uint' } as const;

/** Parameters per store type. `auto` may open a local store or the daemon, so it takes either's. */
export const STORE_PARAMS: Readonly<Record<StoreUrlKind, Readonly<Record<string, ParamType>>>> = Object.freeze({
  local: Object.freeze({ ...LOCAL }),
  daemon: Object.freeze({ ...DAEMON }),
  auto: Object.freeze({ ...LOCAL, ...DAEMON }),
  'local-overlay': Object.freeze({ ...LOCAL, 'lower-store': 'store-url', 'upper-layer': 'path', 'check-mount': 'bool', 'remount-hook': 'optional-path' }),
});

/** What a value of each type must look like, for error messages. */
export const PARAM_EXPECTED: Readonly<Record<ParamType, string>> = Object.freeze({
  path: 'an absolute path',
  'optional-path': 'an absolute path (or nothing, for none)',
  bool: 'a boolean: true, false, yes, no, 1 or 0',
  int: 'an integer',
  uint: 'a non-negative integer',
  string: 'a string',
  'store-url': 'a store URL, %-escaped',
});

/** A parameter value read by its type, or why it cannot be. */
export type ParamValue =
  | { readonly ok: true; readonly value: string | boolean | number | undefined }
  | { readonly ok: false; readonly problem: 'relative-path' | 'empty-path' | 'bad-boolean' | 'bad-integer' };

/** Reads one (already %-decoded) value the way Nix's setting of that type parses it. */
export function readParamValue(type: ParamType, raw: string): ParamValue {
  switch (type) {
    case 'path':
    case 'optional-path': {
      if (raw === '') return type === 'path' ? { ok: false, problem: 'empty-path' } : { ok: true, value: undefined };
      const path = canonAbsolutePath(raw);
      return path === undefined ? { ok: false, problem: 'relative-path' } : { ok: true, value: path };
    }
    case 'bool':
      // Nix's BaseSetting<bool>::parse: exactly these six words.
      if (raw === 'true' || raw === 'yes' || raw === '1') return { ok: true, value: true };
      if (raw === 'false' || raw === 'no' || raw === '0') return { ok: true, value: false };
      return { ok: false, problem: 'bad-boolean' };
    case 'int':
    case 'uint':
      return (type === 'int' ? /^-?[0-9]+$/ : /^[0-9]+$/).test(raw) ? { ok: true, value: Number(raw) } : { ok: false, problem: 'bad-integer' };
    case 'string':
    case 'store-url':
      return { ok: true, value: raw };
  }
}
