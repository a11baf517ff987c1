/**
 * A reader for the plainest configuration files only, such as the shipped default: `key: /a/path` lines, and sections
 * of such lines indented by two spaces, with comments and blank lines. The yaml package (about 70 modules) costs a
 * one-shot command more than reading such a file; anything beyond this subset goes to it, which is the authority
 * (a test holds the two equal on what this reader accepts).
 */

/** The value of the file and the line of each key path (keyed as config-file.ts keys them), as the yaml package gives them. */
export interface SimpleYaml {
  readonly raw: Record<string, unknown>;
  readonly lines: Map<string, number>;
}

const KEY = '([A-Za-z][A-Za-z0-9]*)';
/** A plain scalar that can only be a string (an absolute path of the safest characters), then an optional comment. */
const PATH_VALUE = ' +(/[A-Za-z0-9/._-]*)(?: +#.*)?';
const SECTION = new RegExp(`^${KEY}:(?: +#.*)? *$`);
const TOP_SETTING = new RegExp(`^${KEY}:${PATH_VALUE}$`);
const NESTED_SETTING = new RegExp(`^  ${KEY}:${PATH_VALUE}$`);
const SKIPPED = /^ *(#.*)?$/;

/**
 * The file's value and key lines when `text` is in the subset; undefined otherwise (another construct, a key given
 * twice, an empty section or file, a tab or carriage return anywhere). Pure; linear in the text.
 */
export function parseSimpleYaml(text: string): SimpleYaml | undefined {
  if (text.includes('\t') || text.includes('\r')) return undefined;
  const raw: Record<string, unknown> = {};
  const lines = new Map<string, number>();
  let section: { key: string; value: Record<string, unknown> } | undefined;
  const lineList = text.split('\n');
  for (let index = 0; index < lineList.length; index++) {
    const line = lineList[index]!;
    const number = index + 1;
    if (SKIPPED.test(line)) continue;
    const nested = NESTED_SETTING.exec(line);
    if (nested !== null) {
      if (section === undefined || Object.hasOwn(section.value, nested[1]!)) return undefined;
      // A section's node starts at its first key, as the yaml package places it.
      if (Object.keys(section.value).length === 0) lines.set(`\0${section.key}`, number);
      section.value[nested[1]!] = nested[2]!;
      lines.set(`\0${section.key}\0${nested[1]!}`, number);
      continue;
    }
    if (section !== undefined && Object.keys(section.value).length === 0) return undefined;
    section = undefined;
    const top = TOP_SETTING.exec(line) ?? SECTION.exec(line);
    if (top === null || Object.hasOwn(raw, top[1]!)) return undefined;
    if (!lines.has('')) lines.set('', number);
    if (top[2] === undefined) {
      section = { key: top[1]!, value: {} };
      raw[top[1]!] = section.value;
    } else {
      raw[top[1]!] = top[2];
      lines.set(`\0${top[1]!}`, number);
    }
  }
  if (section !== undefined && Object.keys(section.value).length === 0) return undefined;
  return lines.has('') ? { raw, lines } : undefined;
}
