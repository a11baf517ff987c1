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
export const OPEN_REGULAR = narStrings('(', 'type', 'regular');
export const OPEN_EXECUTABLE = narStrings('(', 'type', 'regular', 'executable', '');
export const CONTENTS = narStrings('contents');
export const OPEN_SYMLINK = narStrings('(', 'type', 'symlink', 'target');
export const CLOSE = narStrings(')');
export const ENTRY_NAME = narStrings('entry', '(', 'name');
export const NODE = narStrings('node');
