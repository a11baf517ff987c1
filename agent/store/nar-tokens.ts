/** The fixed tokens of a NAR, each pre-encoded as NAR strings (see Nix's archive.cc). */

/** NAR strings: u64 little-endian length, bytes, zero padding to a multiple of 8. */
function narStrings(...tokens: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const token of tokens) {
    const bytes = Buffer.from(token);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(bytes.length, 0);
    parts.push(head, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8));
  }
  return Buffer.concat(parts);
}

export const MAGIC = narStrings('nix-archive-1');
export const OPEN_DIRECTORY = narStrings('(', 'type', 'directory');
export const OPEN_SYMLINK = narStrings('(', 'type', 'symlink', 'target');
/** A regular file's opening up to its size: one token, not three (tokens are copied one `put` each). */
export const OPEN_REGULAR_CONTENTS = narStrings('(', 'type', 'regular', 'contents');
export const OPEN_EXECUTABLE_CONTENTS = narStrings('(', 'type', 'regular', 'executable', '', 'contents');
export const CLOSE = narStrings(')');
export const ENTRY_NAME = narStrings('entry', '(', 'name');
export const NODE = narStrings('node');
/** The same openings as a directory entry's node: preceded by `node`. */
export const NODE_OPEN_DIRECTORY = narStrings('node', '(', 'type', 'directory');
export const NODE_OPEN_SYMLINK = narStrings('node', '(', 'type', 'symlink', 'target');
export const NODE_OPEN_REGULAR_CONTENTS = narStrings('node', '(', 'type', 'regular', 'contents');
export const NODE_OPEN_EXECUTABLE_CONTENTS = narStrings('node', '(', 'type', 'regular', 'executable', '', 'contents');
/** Closes a node and the directory entry holding it. */
export const CLOSE_ENTRY = narStrings(')', ')');
