/** The kernel's octal escaping of mountinfo fields (`\040` for space…), undone and redone. */

const OCTAL_ESCAPE = /\\([0-3][0-7][0-7])/g;

/**
 * Undoes the kernel's `\ooo` escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash, `\054` comma in
 * overlay options, `\043` `#` in sources on some kernels; any three-digit octal up to `\377`). A backslash not
 * followed by such digits is kept as is (the kernel never prints one; a hand-edited table might). Never throws.
 *
 * The kernel escapes only ASCII characters, so decoding an escape to the character with that code is exact for
 * its output; other bytes arrive raw and were already decoded as UTF-8 by whoever read the file.
 */
export function unescapeMountinfo(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(OCTAL_ESCAPE, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

const PATH_ESCAPES: Readonly<Record<string, string>> = { ' ': '\\040', '\t': '\\011', '\n': '\\012', '\\': '\\134' };
const PATH_SPECIALS = /[ \t\n\\]/g;

/**
 * Escapes a path the way the kernel prints the root, mount point and source fields (`seq_escape` with
 * `" \t\n\\"`). The inverse of `unescapeMountinfo` for every string: `unescapeMountinfo(escapeMountinfoPath(s)) === s`.
 */
export function escapeMountinfoPath(path: string): string {
  return path.replace(PATH_SPECIALS, (c) => PATH_ESCAPES[c] ?? c);
}

const OPTION_ESCAPES: Readonly<Record<string, string>> = { ...PATH_ESCAPES, ',': '\\054' };
const OPTION_SPECIALS = /[, \t\n\\]/g;

/**
 * Escapes an option value the way `seq_show_option` does for overlayfs's super options (`", \t\n\\"`), so that
 * commas inside a value never look like option separators. `unescapeMountinfo` is its inverse.
 */
export function escapeMountinfoOptionValue(value: string): string {
  return value.replace(OPTION_SPECIALS, (c) => OPTION_ESCAPES[c] ?? c);
}
