/** The query of a store URL: split and %-decoded, unknown parameters named with a did-you-mean, and errors that say where in a nested URL they are. */
import { didYouMean, escapeName, messageOf, nearestNames, type Evidence } from '../errors/index.ts';
import { percentDecode } from './percent-encoding.ts';
import { StoreUrlError, type StoreUrlErrorCode } from './store-url-error.ts';
import { STORE_PARAMS, type StoreUrlKind } from './store-url-params.ts';

/** Where in a (possibly nested) store URL parsing is: the URL at this level, and the parameters leading to it. */
export interface Context {
  readonly url: string;
  readonly within: readonly string[];
}

/** Splits the query at `&` and each item at its first `=`, decoding both sides; rejects items without `=` and repeats. */
export function parseQuery(query: string, ctx: Context): Map<string, string> {
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

/**
 * Decodes one %-escaped part of the URL (`what` names it in messages).
 * @throws StoreUrlError STORE_URL_BAD_ESCAPE for a malformed escape or bytes that are not UTF-8, STORE_URL_NUL_BYTE
 *   when it decodes to text holding a NUL.
 */
export function decode(raw: string, what: string, ctx: Context): string {
  let decoded: string;
  try {
    decoded = percentDecode(raw);
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
  if (decoded.includes('\0')) {
    fail(
      'STORE_URL_NUL_BYTE',
      ctx,
      `${what} '${raw}' decodes to text holding a NUL byte, which no path or setting can hold`,
      { value: raw, offset: decoded.indexOf('\0'), expected: 'no %00' },
      'remove the %00: Nix would cut the path short there',
    );
  }
  return decoded;
}

export function unknownParam(kind: StoreUrlKind, name: string, raw: string, ctx: Context): never {
  const allowed = Object.keys(STORE_PARAMS[kind]);
  const owners = (Object.keys(STORE_PARAMS) as StoreUrlKind[]).filter((k) => k !== 'auto' && STORE_PARAMS[k][name] !== undefined);
  const near = didYouMean(nearestNames(name.replaceAll('_', '-'), allowed), (n) => `'${n}'`);
  const hint =
    owners.length > 0
      ? `'${name}' is a parameter of ${owners.join(' and ')} stores, not of ${kind} stores`
      : (near ?? `a ${kind} store takes: ${allowed.join(', ')}`);
  fail(
    'STORE_URL_UNKNOWN_PARAM',
    ctx,
    `unknown parameter '${name}' (value '${raw}') for a ${kind} store`,
    { param: name, value: raw, kind, expected: allowed },
    hint,
  );
}

export function fail(code: StoreUrlErrorCode, ctx: Context, what: string, facts: Evidence, hint?: string, cause?: unknown): never {
  // The URL is shown escaped: a lower store's URL is decoded text, which may hold a newline or a NUL.
  const url = escapeName(ctx.url);
  const where = ctx.within.length === 0 ? `store URL '${url}'` : `lower store URL '${url}' (${ctx.within.join(' of the ')} of the overlay store)`;
  throw new StoreUrlError(code, `${where}: ${what}`, { evidence: { url: ctx.url, within: ctx.within, ...facts }, hint, cause });
}
