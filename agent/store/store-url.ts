/** Parses the Nix store URLs whose store dir is on this machine (lower stores included, recursively) into typed settings. */
import { messageOf, type Evidence } from '../errors/index.ts';
import { canonAbsolutePath } from '../mount/index.ts';
import { percentDecode, percentEncode } from './percent-encoding.ts';
import { StoreUrlError, type StoreUrlErrorCode } from './store-url-error.ts';
import { PARAM_EXPECTED, STORE_PARAMS, readParamValue, type StoreUrlKind } from './store-url-params.ts';

/** Settings every parsed URL carries (Nix's StoreConfig and LocalFSStoreConfig). */
export interface StoreUrlCommon {
  /** The URL as given; for a lower store, the %-decoded value of `lower-store`. */
  readonly url: string;
  /** The part before `?`, as written: `local-overlay://`, `local-overlay`, `/mnt/cacache`, `daemon`, `unix:///x.sock`, `` (auto)… */
  readonly base: string;
  /** Every query parameter, %-decoded, in the order written (values before canonicalisation). */
  readonly params: Readonly<Record<string, string>>;
  /** `store`: the logical store dir, canonical; undefined for Nix's default. */
  readonly storeDir: string | undefined;
  /** `root`, or the path of the `/path` and `local:///path` forms; canonical. */
  readonly root: string | undefined;
  /** `state`, canonical. */
  readonly state: string | undefined;
  /** `real`, canonical. */
  readonly real: string | undefined;
}

/** `local`, `local://…`, `local:///root`, or a plain absolute path (a local store with that root). */
export interface LocalStoreUrl extends StoreUrlCommon {
  readonly kind: 'local';
  /** `read-only` (default false): Nix opens the DB with SQLite's `immutable=1`. */
  readonly readOnly: boolean;
}

/** `auto` or the empty URL: Nix picks a local store when it may write the state dir, else the daemon. */
export interface AutoStoreUrl extends StoreUrlCommon {
  readonly kind: 'auto';
  readonly readOnly: boolean;
}

/** `daemon`, `unix://…`, `unix:///path/to.sock`: a store reached through nix-daemon's socket. */
export interface DaemonStoreUrl extends StoreUrlCommon {
  readonly kind: 'daemon';
  /** The socket path of `unix:///path`; undefined for the default (STATE/daemon-socket/socket). */
  readonly socket: string | undefined;
}

/** `local-overlay://?…` or `local-overlay?…`. */
export interface LocalOverlayStoreUrl extends StoreUrlCommon {
  readonly kind: 'local-overlay';
  /** `read-only` of the overlay store itself (its upper DB). */
  readonly readOnly: boolean;
  /** `lower-store`, parsed; Nix's default (absent or empty) is `auto`. */
  readonly lowerStore: ParsedStoreUrl;
  /** `upper-layer` (required), canonical. */
  readonly upperLayer: string;
  /** `check-mount` (default true). */
  readonly checkMount: boolean;
  /** `remount-hook`, canonical; empty or absent means none. */
  readonly remountHook: string | undefined;
}

export type ParsedStoreUrl = LocalStoreUrl | AutoStoreUrl | DaemonStoreUrl | LocalOverlayStoreUrl;

/** Deepest chain of overlay stores as lower stores that is followed (a guard against runaway nesting). */
export const MAX_LOWER_STORE_DEPTH = 8;

/** Schemes Nix knows whose stores have no store dir on this machine: named in the error, not "unknown". */
const REMOTE_SCHEMES = new Set(['ssh', 'ssh-ng', 'mounted-ssh-ng', 'http', 'https', 's3', 'file', 'dummy']);
const SUPPORTED_FORMS = 'local-overlay://?…, local-overlay?…, local, local://?…, an absolute path, daemon, unix://…, or auto';

interface Context {
  readonly url: string;
  readonly within: readonly string[];
}

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
 * are errors. Parameters are the union over Nix versions, so nothing valid is
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
export function formatStoreUrl(url: ParsedStoreUrl, overrides: Readonly<Record<string, string | undefined>> = {}): string {
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

/** Splits the query at `&` and each item at its first `=`, decoding both sides; rejects items without `=` and repeats. */
function parseQuery(query: string, ctx: Context): Map<string, string> {
  const params = new Map<string, string>();
  for (const item of query.split('&')) {
    if (item === '') continue; // `a=b&` or `?&a=b`: nothing there (Nix ignores it too)
    const eq = item.indexOf('=');
    if (eq < 0) {
      fail(
        'STORE_URL_PARAM_WITHOUT_VALUE',
        ctx,
        `query item '${item}' has no '='`,
        { param: item, expected: 'name=value' },
        `write ${item}=VALUE, or '%26' for a literal '&' inside a value`,
      );
    }
    const name = decode(item.slice(0, eq), 'the parameter name', ctx);
    const value = decode(item.slice(eq + 1), `the value of parameter '${name}'`, ctx);
    const first = params.get(name);
    if (first !== undefined) {
      fail(
        'STORE_URL_DUPLICATE_PARAM',
        ctx,
        `parameter '${name}' is given twice ('${first}' and '${value}')`,
        { param: name, value: [first, value], expected: 'each parameter once' },
        'remove one (Nix silently keeps the first)',
      );
    }
    params.set(name, value);
  }
  return params;
}

function decode(raw: string, what: string, ctx: Context): string {
  try {
    return percentDecode(raw);
  } catch (cause) {
    const evidence = (cause as { evidence?: Evidence }).evidence ?? {};
    fail(
      'STORE_URL_BAD_ESCAPE',
      ctx,
      `${what} '${raw}': ${messageOf(cause)}`,
      { value: raw, escape: evidence['escape'], expected: "'%' followed by two hex digits, encoding UTF-8" },
      "write '%25' for a literal '%'",
      cause,
    );
  }
}

function unknownParam(kind: StoreUrlKind, name: string, raw: string, ctx: Context): never {
  const allowed = Object.keys(STORE_PARAMS[kind]);
  const owners = (Object.keys(STORE_PARAMS) as StoreUrlKind[]).filter((k) => k !== 'auto' && STORE_PARAMS[k][name] !== undefined);
  const near = allowed.filter((a) => editDistance(a, name.toLowerCase().replaceAll('_', '-')) <= 2);
  const hint =
    owners.length > 0
      ? `'${name}' is a parameter of ${owners.join(' and ')} stores, not of ${kind} stores`
      : near.length > 0
        ? `did you mean ${near.map((n) => `'${n}'`).join(' or ')}?`
        : `a ${kind} store takes: ${allowed.join(', ')}`;
  fail(
    'STORE_URL_UNKNOWN_PARAM',
    ctx,
    `unknown parameter '${name}' (value '${raw}') for a ${kind} store`,
    { param: name, value: raw, kind, expected: allowed },
    hint,
  );
}

/** Levenshtein distance, for "did you mean" on short parameter names. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] as number;
}

function fail(code: StoreUrlErrorCode, ctx: Context, what: string, facts: Evidence, hint?: string, cause?: unknown): never {
  const where = ctx.within.length === 0 ? `store URL '${ctx.url}'` : `lower store URL '${ctx.url}' (${ctx.within.join(' of the ')} of the overlay store)`;
  throw new StoreUrlError(code, `${where}: ${what}`, { evidence: { url: ctx.url, within: ctx.within, ...facts }, hint, cause });
}
