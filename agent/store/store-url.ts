/** Parses the Nix store URLs whose store dir is on this machine (lower stores included, recursively) into typed settings. */
import { canonAbsolutePath } from '../mount/index.ts';
import { percentEncode } from './percent-encoding.ts';
import type { StoreUrlErrorCode } from './store-url-error.ts';
import { PARAM_EXPECTED, STORE_PARAMS, readParamValue, type StoreUrlKind } from './store-url-params.ts';
import { decode, fail, parseQuery, unknownParam, type Context } from './store-url-query.ts';
import type { ParsedStoreUrl, StoreUrlCommon } from './parsed-store-url.ts';

/** Deepest chain of overlay stores as lower stores that is followed (a guard against runaway nesting). */
export const MAX_LOWER_STORE_DEPTH = 8;

/** Schemes Nix knows whose stores have no store dir on this machine: named in the error, not "unknown". */
const REMOTE_SCHEMES = new Set(['ssh', 'ssh-ng', 'mounted-ssh-ng', 'http', 'https', 's3', 'file', 'dummy']);
const SUPPORTED_FORMS = 'local-overlay://?…, local-overlay?…, local, local://?…, an absolute path, daemon, unix://…, or auto';

/**
 * Parses a Nix store URL of a type overlay-warden can read: `local-overlay://?…`
 * and `local-overlay?…`, `local`, `local://?…` and `local:///root?…`, a plain
 * absolute path (`/mnt/cacache?read-only=true`), `daemon`, `unix://…`, and
 * `auto` (or the empty string). Query values are %-decoded; `lower-store` is
 * parsed recursively as a store URL of its own.
 *
 * How it differs from Nix (src/libstore/store-reference.cc and the store
 * configs): it is strict where Nix only warns or guesses. Unknown parameters,
 * items without `=`, duplicate parameters, relative paths (Nix resolves them
 * against its working directory), `#`, and a path part on `local-overlay://`
 * are errors, and so is a NUL byte, written or as `%00`. Parameters are the union over Nix versions, so nothing valid is
 * rejected. `local-overlay?…` (Replit's form) is accepted although current
 * upstream Nix's parser would reject it. The lower URL is decoded once, as
 * Nix master does (Nix 2.22 to 2.32 decoded it a second time; the two only
 * differ when the decoded lower URL still contains `%`).
 *
 * Pure. Throws StoreUrlError only, with `evidence` naming the parameter, the
 * bad value and what was expected.
 */
export function parseStoreUrl(text: string): ParsedStoreUrl {
  return parseAt(text, []);
}

/**
 * Renders a parsed URL back to a store URL: its `base` and its parameters,
 * %-escaped, with `overrides` applied (an undefined value removes the
 * parameter). Parse the result to validate it: `parseStoreUrl(formatStoreUrl(u))`
 * equals `u` apart from `url`.
 */
export function formatStoreUrl(url: Pick<ParsedStoreUrl, 'base' | 'params'>, overrides: Readonly<Record<string, string | undefined>> = {}): string {
  const params = new Map(Object.entries(url.params));
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) params.delete(name);
    else params.set(name, value);
  }
  const query = [...params].map(([name, value]) => `${percentEncode(name)}=${percentEncode(value, '/:@')}`).join('&');
  return query === '' ? url.base : `${url.base}?${query}`;
}

function parseAt(text: string, within: readonly string[]): ParsedStoreUrl {
  const ctx: Context = { url: text, within };
  if (within.length > MAX_LOWER_STORE_DEPTH) {
    fail('STORE_URL_NESTED_TOO_DEEP', ctx, `lower stores nested ${within.length} deep; at most ${MAX_LOWER_STORE_DEPTH} are followed`, {
      depth: within.length,
    });
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    fail(
      'STORE_URL_NUL_BYTE',
      ctx,
      `a NUL byte at offset ${nul}: no path or setting can hold one, and Nix would cut the URL short there`,
      { offset: nul, expected: 'no NUL byte' },
      'remove the NUL byte (a YAML "\\0" escape, or a stray byte in nix.conf)',
    );
  }
  const hash = text.indexOf('#');
  if (hash >= 0) {
    fail(
      'STORE_URL_SYNTAX',
      ctx,
      `unexpected '#' at offset ${hash}: Nix reads it as the start of a fragment (and nix.conf as a comment)`,
      { offset: hash },
      "write '%23' for a literal '#'",
    );
  }
  const q = text.indexOf('?');
  const base = q < 0 ? text : text.slice(0, q);
  const { kind, pathRoot, socket } = classifyBase(base, ctx);
  const params = parseQuery(q < 0 ? '' : text.slice(q + 1), ctx);

  const allowed = STORE_PARAMS[kind];
  const values = new Map<string, string | boolean | number | undefined>();
  for (const [name, raw] of params) {
    const type = allowed[name];
    if (type === undefined) unknownParam(kind, name, raw, ctx);
    if (type === 'store-url') continue;
    const read = readParamValue(type, raw);
    if (!read.ok) {
      const code: StoreUrlErrorCode = {
        'relative-path': 'STORE_URL_RELATIVE_PATH',
        'empty-path': 'STORE_URL_EMPTY_PATH',
        'bad-boolean': 'STORE_URL_BAD_BOOLEAN',
        'bad-integer': 'STORE_URL_BAD_INTEGER',
      }[read.problem] as StoreUrlErrorCode;
      fail(
        code,
        ctx,
        `parameter '${name}' has value '${raw}'; expected ${PARAM_EXPECTED[type]}`,
        { param: name, value: raw, expected: PARAM_EXPECTED[type] },
        type === 'bool' ? `write ${name}=true or ${name}=false` : undefined,
      );
    }
    values.set(name, read.value);
  }

  const rootParam = values.get('root') as string | undefined;
  if (pathRoot !== undefined && params.has('root') && rootParam !== pathRoot) {
    fail(
      'STORE_URL_CONFLICTING_ROOT',
      ctx,
      `parameter 'root' ('${params.get('root')}') contradicts the root '${pathRoot}' before '?'`,
      { param: 'root', value: params.get('root'), pathRoot, expected: 'one root' },
      'give the root once (Nix versions disagree on which one wins)',
    );
  }
  const common: StoreUrlCommon = {
    url: text,
    base,
    params: Object.freeze(Object.fromEntries(params)),
    storeDir: values.get('store') as string | undefined,
    root: pathRoot ?? rootParam,
    state: values.get('state') as string | undefined,
    real: values.get('real') as string | undefined,
  };
  const readOnly = values.get('read-only') === true;
  switch (kind) {
    case 'local':
    case 'auto':
      return Object.freeze({ ...common, kind, readOnly });
    case 'daemon':
      return Object.freeze({ ...common, kind, socket });
    case 'local-overlay': {
      const upperLayer = values.get('upper-layer') as string | undefined;
      if (upperLayer === undefined) {
        fail(
          'STORE_URL_MISSING_PARAM',
          ctx,
          "the local-overlay store needs the 'upper-layer' parameter (the OverlayFS upperdir)",
          { param: 'upper-layer', expected: PARAM_EXPECTED.path },
          'add &upper-layer=/path/to/upper to the URL',
        );
      }
      return Object.freeze({
        ...common,
        kind,
        readOnly,
        lowerStore: parseAt(params.get('lower-store') ?? '', [...within, 'lower-store']),
        upperLayer,
        checkMount: values.get('check-mount') !== false,
        remountHook: values.get('remount-hook') as string | undefined,
      });
    }
  }
}

/** What the part before `?` says: the store type, and a root or socket path for the forms that carry one. */
function classifyBase(base: string, ctx: Context): { kind: StoreUrlKind; pathRoot?: string; socket?: string } {
  switch (base) {
    case '':
    case 'auto':
      return { kind: 'auto' };
    case 'daemon':
      return { kind: 'daemon' };
    case 'local':
      return { kind: 'local' };
    case 'local-overlay':
      return { kind: 'local-overlay' };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/)?(.*)$/s.exec(base);
  if (scheme !== null) {
    const [, name = '', authorityPath = ''] = scheme;
    switch (name) {
      case 'local':
        return { kind: 'local', pathRoot: urlPath(authorityPath, 'root path', ctx) };
      case 'unix':
        return { kind: 'daemon', socket: urlPath(authorityPath, 'socket path', ctx) };
      case 'local-overlay':
        if (authorityPath !== '') {
          fail(
            'STORE_URL_PATH_NOT_ALLOWED',
            ctx,
            `'local-overlay://' takes no path (got '${authorityPath}'); the overlay store is described by its parameters only`,
            { value: authorityPath, expected: 'local-overlay://?…' },
            'write local-overlay://?root=PATH&… for a store under PATH',
          );
        }
        return { kind: 'local-overlay' };
    }
    const remote = REMOTE_SCHEMES.has(name);
    fail(
      'STORE_URL_UNSUPPORTED_TYPE',
      ctx,
      remote ? `'${name}://' stores have no store dir on this machine's file system` : `unknown store type '${name}:'`,
      { scheme: name, expected: SUPPORTED_FORMS },
      `use one of: ${SUPPORTED_FORMS}`,
    );
  }
  if (base.includes('/')) {
    // Nix's "non-URI path" form: a local store rooted there. Taken literally (no %-decoding), as Nix does.
    const root = canonAbsolutePath(base);
    if (root === undefined) {
      fail(
        'STORE_URL_RELATIVE_PATH',
        ctx,
        `store path '${base}' is relative; Nix would resolve it against its working directory`,
        { value: base, expected: PARAM_EXPECTED.path },
        'write the absolute path',
      );
    }
    return { kind: 'local', pathRoot: root };
  }
  fail('STORE_URL_UNSUPPORTED_TYPE', ctx, `unknown store type '${base}'`, { value: base, expected: SUPPORTED_FORMS }, `use one of: ${SUPPORTED_FORMS}`);
}

/** The %-decoded authority+path of `local://…` or `unix://…`: absolute, canonical; undefined when empty. */
function urlPath(authorityPath: string, what: string, ctx: Context): string | undefined {
  if (authorityPath === '') return undefined;
  const decoded = decode(authorityPath, what, ctx);
  const path = canonAbsolutePath(decoded);
  if (path === undefined) {
    fail(
      'STORE_URL_RELATIVE_PATH',
      ctx,
      `${what} '${decoded}' is not absolute (after '://' comes a host, so an absolute path needs three slashes)`,
      { value: decoded, expected: PARAM_EXPECTED.path },
      `write ${ctx.url.slice(0, ctx.url.indexOf(':'))}:///absolute/path`,
    );
  }
  return path;
}
