/** Lexical canonicalisation of absolute paths, the way Nix's `canonPath` does it for path settings. */

/**
 * Canonical form of an absolute POSIX path, without touching the file system:
 * `.` and empty components dropped, `..` pops one component (never above `/`),
 * no trailing slash. This is what Nix applies to every path-valued store
 * setting (`root`, `state`, `real`, `upper-layer`, …), so comparing layout
 * paths with mount table paths must start from this form.
 * Returns undefined for a path that is not absolute (callers name the setting
 * in their own error).
 */
export function canonAbsolutePath(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** `base` + `/` + the relative components (both already canonical; `base` may be `/`). */
export function joinCanonPath(base: string, ...relative: readonly string[]): string {
  return `${base === '/' ? '' : base}/${relative.join('/')}`;
}
