/** File names and paths as people are shown them: bytes that are not UTF-8, and control characters, escaped reversibly. */
import { WardenError } from './warden-error.ts';

/** Text escapeName would print unchanged, tested first: printable ASCII without a backslash. */
const PLAIN = /^[\x20-\x5b\x5d-\x7e]*$/;

/**
 * Code points printed as `\xNN` escapes of their UTF-8 bytes although they are valid UTF-8: the C0 controls, DEL and
 * the C1 controls (a newline or an escape sequence in a name would break or forge a line of output), the line and
 * paragraph separators, and the bidirectional formatting characters (they reorder what follows them on screen).
 */
function isHidden(codePoint: number): boolean {
  return (
    codePoint < 0x20 ||
    (codePoint >= 0x7f && codePoint < 0xa0) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069) ||
    codePoint === 0x200e ||
    codePoint === 0x200f
  );
}

/**
 * The length of the well-formed UTF-8 sequence starting at `i` (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), or 0 when the byte there does not start one.
 */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, low = 0x80, high = 0xbf): boolean => i + k < bytes.length && bytes[i + k]! >= low && bytes[i + k]! <= high;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const [low, high] = b0 === 0xe0 ? [0xa0, 0xbf] : b0 === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, low, high) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const [low, high] = b0 === 0xf0 ? [0x90, 0xbf] : b0 === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, low, high) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const hex = (byte: number): string => `\\x${byte.toString(16).padStart(2, '0')}`;

/**
 * A name (or path) as people are shown it, in findings, log lines and `--json`: its bytes as UTF-8 text, except
 * that a backslash is `\\`, and each byte that is not part of well-formed UTF-8, or that encodes a control or
 * formatting character (see isHidden), is `\xNN` (two lowercase hex digits). So a name read from the file system
 * prints as one line that names exactly that file, never as another path that does not exist; `unescapeName`
 * gives the bytes back. A string is taken as its UTF-8 bytes (names read as latin1, one char per byte, must be
 * passed as `Buffer.from(name, 'latin1')`). Printable ASCII without a backslash comes back unchanged. Pure.
 */
export function escapeName(name: Uint8Array | string): string {
  if (typeof name === 'string') {
    if (PLAIN.test(name)) return name;
    name = Buffer.from(name, 'utf8');
  }
  const bytes = name;
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      out += hex(bytes[i]!);
      i++;
      continue;
    }
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + i, length).toString('utf8');
    const codePoint = text.codePointAt(0)!;
    if (codePoint === 0x5c) out += '\\\\';
    else if (isHidden(codePoint)) for (let k = 0; k < length; k++) out += hex(bytes[i + k]!);
    else out += text;
    i += length;
  }
  return out;
}

/** Text that escapeName cannot have printed: a backslash not followed by `\` or `xNN`. */
export class EscapedNameError extends WardenError<'ESCAPED_NAME_MALFORMED'> {}

/**
 * The bytes of a name escapeName printed: `\\` is a backslash, `\xNN` the byte NN, and any other character its
 * UTF-8 bytes. `unescapeName(escapeName(b))` equals `b` for every byte string `b`.
 * @throws EscapedNameError ESCAPED_NAME_MALFORMED (evidence: text, offset) for a backslash not followed by `\` or
 *   `x` and two hex digits.
 */
export function unescapeName(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', start)) {
    parts.push(Buffer.from(text.slice(start, i), 'utf8'));
    if (text[i + 1] === '\\') {
      parts.push(Buffer.from([0x5c]));
      start = i + 2;
    } else if (text[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(Buffer.from([Number.parseInt(text.slice(i + 2, i + 4), 16)]));
      start = i + 4;
    } else {
      throw new EscapedNameError('ESCAPED_NAME_MALFORMED', `'${text}' has a backslash at offset ${i} that starts neither '\\\\' nor '\\xNN'`, {
        evidence: { text, offset: i },
      });
    }
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}
