/** Canonicalises configured and mounted layer paths so they compare: realpath where they exist, relative ones resolved against the mounter's view. */
import { canonAbsolutePath } from '../mount/index.ts';

/** The file system as the path checks see it: realpath(3) of an absolute path; undefined when the path does not exist (or cannot be read). */
export interface RealpathView {
  realpath(path: string): string | undefined;
}

/** A view where nothing exists: every path stays lexical. For pure tests and saved tables from another machine. */
export const LEXICAL_VIEW: RealpathView = Object.freeze({ realpath: () => undefined });

/**
 * How a path was made comparable:
 * - `realpath`: it exists here and symlinks were resolved;
 * - `lexical`: it does not exist here, so only `.`, `..`, `//` and a trailing `/` were folded;
 * - `relative-resolved`: the mounter gave a relative path, resolved against the mounter's working directory as
 *   inferred (see `MounterCwd`), then canonicalised as above;
 * - `relative-suffix-match`: relative, no working directory could be inferred, but the configured path ends with
 *   it, so it is taken to be the configured path;
 * - `relative-unresolved`: relative, and nothing says what it was relative to.
 */
export type PathResolution = 'realpath' | 'lexical' | 'relative-resolved' | 'relative-suffix-match' | 'relative-unresolved';

export interface ResolvedPath {
  /** As configured, or as the mount table shows it (unescaped). */
  readonly given: string;
  /** The form comparisons use: canonical and absolute, except for `relative-unresolved` (then `given`). */
  readonly path: string;
  readonly how: PathResolution;
}

/**
 * The working directory the mounter had, as far as it can be known: the kernel shows relative layer paths as given
 * and records no working directory, so it is inferred from a relative layer whose path is a suffix of the
 * configured one (`lower/nix/store` and a configured `/srv/lower/nix/store` give `/srv`).
 */
export interface MounterCwd {
  readonly path: string;
  /** Which layer and which configured path it was inferred from, in words. */
  readonly inferredFrom: string;
}

/** Canonical form of an absolute path: realpath when it exists in `view`, else lexical. */
export function resolveAbsolute(given: string, view: RealpathView): ResolvedPath {
  const lexical = canonAbsolutePath(given) ?? given;
  const real = view.realpath(lexical);
  return real === undefined ? { given, path: lexical, how: 'lexical' } : { given, path: real, how: 'realpath' };
}

/** `a/./b/../c` → { up: 0, rest: 'a/c' }; `../../x` → { up: 2, rest: 'x' }. */
export function normalizeRelative(path: string): { up: number; rest: string } {
  const parts: string[] = [];
  let up = 0;
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.length > 0) parts.pop();
    else up++;
  }
  return { up, rest: parts.join('/') };
}

/** The directory `relative` (with no leading `..`) was resolved from to give `expected`, or undefined. */
export function cwdBySuffix(relative: string, expected: string): string | undefined {
  const { up, rest } = normalizeRelative(relative);
  if (up > 0 || rest === '') return undefined;
  if (expected === `/${rest}`) return '/';
  return expected.endsWith(`/${rest}`) ? expected.slice(0, -(rest.length + 1)) : undefined;
}

/** True when `expected` ends with `relative` once leading `..` are set aside: it could be that path from some directory. */
export function suffixMatches(relative: string, expected: string): boolean {
  const { rest } = normalizeRelative(relative);
  return rest !== '' && (expected === `/${rest}` || expected.endsWith(`/${rest}`));
}

/** One mounted path to resolve, and the configured path it should equal (if any), for inferring the working directory. */
export interface MountedPathInput {
  readonly given: string;
  readonly expected?: string;
  /** Appended once resolved: the mount's root when a subdirectory of the overlay is what is mounted (default `/`). */
  readonly subdir?: string;
}

/**
 * Resolves the layer paths of one mount together: absolute ones with `resolveAbsolute`; relative ones against the
 * mounter's working directory, inferred once from the first relative path (in the order given) that is a suffix
 * of its configured path. Without such a directory, a relative path that is a suffix of its configured path is
 * taken to be it (`relative-suffix-match`), any other stays `relative-unresolved`. Pure apart from `view`.
 */
export function resolveMountedPaths(inputs: readonly MountedPathInput[], view: RealpathView): { paths: ResolvedPath[]; cwd: MounterCwd | undefined } {
  let cwd: MounterCwd | undefined;
  for (const input of inputs) {
    if (input.given.startsWith('/') || input.expected === undefined) continue;
    const found = cwdBySuffix(input.given, input.expected);
    if (found !== undefined) {
      cwd = { path: found, inferredFrom: `'${input.given}' as given at mount time is the configured ${input.expected} when resolved from ${found}` };
      break;
    }
  }
  const paths = inputs.map((input): ResolvedPath => {
    const subdir = input.subdir ?? '/';
    const within = (path: string): string => (subdir === '/' ? path : (canonAbsolutePath(`${path}/${subdir}`) ?? path));
    if (input.given.startsWith('/')) return { ...resolveAbsolute(within(input.given), view), given: input.given };
    if (cwd !== undefined) {
      const resolved = resolveAbsolute(within(`${cwd.path}/${input.given}`), view);
      return { given: input.given, path: resolved.path, how: 'relative-resolved' };
    }
    if (input.expected !== undefined && suffixMatches(input.given, input.expected)) {
      return { given: input.given, path: input.expected, how: 'relative-suffix-match' };
    }
    return { given: input.given, path: input.given, how: 'relative-unresolved' };
  });
  return { paths, cwd };
}
