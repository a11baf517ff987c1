/** URL %-escapes: decoding (strict about malformed escapes and bad UTF-8) and encoding of query values. */
import { WardenError } from '../errors/index.ts';

export type PercentEncodingErrorCode = 'PERCENT_BAD_ESCAPE' | 'PERCENT_BAD_UTF8';

/** A string whose %-escapes cannot be decoded; `evidence` holds the text and the offset of the bad escape. */
export class PercentEncodingError extends WardenError<PercentEncodingErrorCode> {}

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `%XX` escapes. Every `%` must start two hex digits
 * (PERCENT_BAD_ESCAPE otherwise), and each run of escapes must decode to
 * UTF-8 (PERCENT_BAD_UTF8). Other characters, `+` included, stay as they are
 * (Nix does not read `+` as a space in store URLs).
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '%') {
      out += text[i];
      i++;
      continue;
    }
    const start = i;
    const bytes: number[] = [];
    while (text[i] === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!HEX_PAIR.test(hex)) {
        throw new PercentEncodingError(
          'PERCENT_BAD_ESCAPE',
          `malformed %-escape '${text.slice(i, i + 3)}' at offset ${i}: '%' must be followed by two hex digits (write '%25' for a literal '%')`,
          {
            evidence: { text, offset: i, escape: text.slice(i, i + 3) },
          },
        );
      }
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    }
    try {
      out += utf8.decode(new Uint8Array(bytes));
    } catch (cause) {
      throw new PercentEncodingError('PERCENT_BAD_UTF8', `%-escapes '${text.slice(start, i)}' at offset ${start} do not decode to UTF-8 text`, {
        cause,
        evidence: { text, offset: start, escape: text.slice(start, i) },
      });
    }
  }
  return out;
}

/**
 * %-encodes every UTF-8 byte of `text` except RFC 3986's unreserved characters
 * (`A-Z a-z 0-9 - . _ ~`) and those in `keep`. `percentDecode` inverts it.
 */
export function percentEncode(text: string, keep = ''): string {
  let out = '';
  for (const char of text) {
    if (/^[A-Za-z0-9\-._~]$/.test(char) || keep.includes(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
