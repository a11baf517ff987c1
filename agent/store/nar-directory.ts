/** A directory's entries, typed by readdir, in NAR order (bytewise by name), with names as strings when they are UTF-8. */
import fs from 'node:fs';

/**
 * Entries of one directory and the path to join their names to (the directory with a trailing slash). Names are
 * strings, which readdir makes far more cheaply than Buffers, unless one is not valid UTF-8 (or the directory path
 * is a Buffer): then prefix and names are bytes.
 */
export type NarDirectory =
  { readonly prefix: string; readonly entries: fs.Dirent<string>[] } | { readonly prefix: Buffer; readonly entries: fs.Dirent<Buffer>[] };

/**
 * Reads and sorts a directory's entries as Nix's dumpPath orders them (std::map<std::string>: bytewise).
 * Throws readdir's error (an errno error) unchanged.
 */
export function readNarDirectory(path: string | Buffer): NarDirectory {
  if (typeof path === 'string') {
    const entries = fs.readdirSync(path, { withFileTypes: true });
    // Invalid UTF-8 decodes to U+FFFD and could not be opened again by name: fall back to bytes.
    if (!entries.some((entry) => entry.name.includes('\uFFFD'))) {
      entries.sort((a, b) => compareAsUtf8(a.name, b.name));
      return { prefix: path.endsWith('/') ? path : `${path}/`, entries };
    }
    path = Buffer.from(path);
  }
  const entries = fs.readdirSync(path, { withFileTypes: true, encoding: 'buffer' });
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  return { prefix: path[path.length - 1] === 0x2f ? path : Buffer.concat([path, SLASH]), entries };
}

const SLASH = Buffer.from('/');

/**
 * Orders strings as their UTF-8 bytes compare, i.e. by code point. UTF-16 code unit order differs only in that
 * surrogates (code points from U+10000) must sort after U+E000–U+FFFF.
 */
function compareAsUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (U+D800–U+DFFF) above U+E000–U+FFFF, keeping order within each group. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
