/** Reads the configuration file (trusted, with a cap) and parses its YAML with line numbers, in time linear in its size. */
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import { errnoCode, messageOf } from '../errors/index.ts';
import { KIB, TrustError, readBoundedSync, readTrustedFile } from '../trust/index.ts';
import { ConfigError, describeProblem } from './config-error.ts';
import { parseSimpleYaml } from './simple-yaml.ts';

/**
 * The yaml package, loaded when a file is beyond parseSimpleYaml's subset. Synchronously, as loadConfig is: require()
 * gives its CommonJS build, which is used here alone.
 */
const yamlPackage = (): typeof import('yaml') => createRequire(import.meta.url)('yaml') as typeof import('yaml');

/**
 * The most bytes of a configuration file read: the full example is 3 KiB. A cap keeps /dev/zero out, and keeps the
 * YAML parse of the largest file allowed (about 0.3 s here for 256 KiB of keys) well under a second.
 */
export const CONFIG_MAX_BYTES = 256 * KIB;
/** The `yaml` package's maxAliasCount: how far aliases may expand, so an alias bomb fails at once (its default too). */
export const CONFIG_MAX_ALIAS_COUNT = 100;

/** The parsed file: the plain value, and `where(path)`, the `FILE:LINE` of a key path (or of its nearest existing parent). */
export interface ConfigFileContents {
  readonly raw: object;
  readonly where: (path: readonly PropertyKey[]) => string | undefined;
}

/**
 * Reads `file` from a descriptor the trust check opened (trustedRead false: read as data, for tests of files
 * owned by others), then parses it. Throws ConfigError CONFIG_NOT_FOUND, CONFIG_UNREADABLE (not a regular file,
 * or a failed read), CONFIG_INSECURE (someone else could have written it or a directory on its way),
 * CONFIG_TOO_LARGE (over CONFIG_MAX_BYTES, or aliases expanding too far), CONFIG_SYNTAX (bad YAML or a key given
 * twice) or CONFIG_INVALID (not a mapping).
 */
export function readConfigFile(file: string, trustedRead: boolean): ConfigFileContents {
  const what = 'configuration file';
  let text: string;
  try {
    const bytes = trustedRead ? readTrustedFile(file, { what, maxBytes: CONFIG_MAX_BYTES }).bytes : readBoundedSync(file, { what, maxBytes: CONFIG_MAX_BYTES });
    text = bytes.toString('utf8');
  } catch (cause) {
    throw fileReadError(file, what, cause);
  }
  const { raw, lines } = parseSimpleYaml(text) ?? parseYaml(file, text);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const problem = { key: '', value: raw, expected: 'a mapping of settings (key: value lines)', source: file };
    throw new ConfigError('CONFIG_INVALID', `invalid configuration in ${file}: ${describeProblem(problem)}`, [problem]);
  }
  return {
    raw,
    where: (path) => {
      for (let n = path.length; n >= 0; n--) {
        // The nearest node that exists: a missing key points at its parent map.
        const line = lines.get(keyOf(path.slice(0, n)));
        if (line !== undefined) return `${file}:${line}`;
      }
      return undefined;
    },
  };
}

/** The value of `text` and the line of each key path, by the yaml package. Throws ConfigError CONFIG_SYNTAX or CONFIG_TOO_LARGE. */
function parseYaml(file: string, text: string): { raw: unknown; lines: Map<string, number> } {
  const { LineCounter, parseDocument } = yamlPackage();
  const lineCounter = new LineCounter();
  // Keys are checked for uniqueness below, in one pass: the yaml package compares each key with every earlier one.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line ?? lineCounter.linePos(first.pos[0]).line;
    throw syntaxError(
      file,
      line,
      first.message.split('\n')[0]!,
      doc.errors.map((e) => e.message.split('\n')[0]),
    );
  }
  const { lines, duplicate } = indexKeys(doc, lineCounter);
  if (duplicate !== undefined) throw syntaxError(file, duplicate.line, `Map keys must be unique (${duplicate.key})`, []);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: CONFIG_MAX_ALIAS_COUNT }) ?? {};
  } catch (cause) {
    throw new ConfigError('CONFIG_TOO_LARGE', `${file}: its YAML aliases expand too far (${messageOf(cause)})`, [], {
      cause,
      evidence: { file, maxAliasCount: CONFIG_MAX_ALIAS_COUNT },
      hint: 'write the settings out; a configuration needs few aliases, if any',
    });
  }
  return { raw, lines };
}

const keyOf = (path: readonly PropertyKey[]): string => path.map((part) => `\0${String(part)}`).join('');

/** The line of every node by key path, and the first key given twice in one mapping: one walk over the document. */
function indexKeys(doc: Document, lineCounter: LineCounter): { lines: Map<string, number>; duplicate: { key: string; line: number } | undefined } {
  const lines = new Map<string, number>();
  let duplicate: { key: string; line: number } | undefined;
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: readonly number[] } | null | undefined)?.range;
    return range === undefined ? undefined : lineCounter.linePos(range[0]!).line;
  };
  const { isMap, isScalar, isSeq } = yamlPackage();
  const visit = (node: unknown, key: string): void => {
    const line = lineOf(node);
    if (line !== undefined) lines.set(key, line);
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(name) && duplicate === undefined) duplicate = { key: name, line: lineOf(pair.key) ?? line ?? 1 };
        seen.add(name);
        visit(pair.value ?? pair.key, `${key}\0${name}`);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, `${key}\0${index}`));
    }
  };
  visit(doc.contents, '');
  return { lines, duplicate };
}

function syntaxError(file: string, line: number, message: string, errors: readonly (string | undefined)[]): ConfigError {
  return new ConfigError('CONFIG_SYNTAX', `${file}:${line}: YAML syntax error: ${message}`, [], {
    evidence: { file, line, errors },
    hint: 'fix the YAML syntax at that line',
  });
}

/** The ConfigError for a file of the configuration (`what`) that could not be read, or was refused. */
export function fileReadError(file: string, what: string, cause: unknown): ConfigError {
  if (cause instanceof TrustError) {
    const code = cause.code === 'FILE_UNTRUSTED' ? 'CONFIG_INSECURE' : cause.code === 'FILE_TOO_LARGE' ? 'CONFIG_TOO_LARGE' : 'CONFIG_UNREADABLE';
    return new ConfigError(code, cause.message, [], { cause, evidence: cause.evidence, hint: cause.hint });
  }
  const missing = errnoCode(cause) === 'ENOENT' || errnoCode(cause) === 'ENOTDIR';
  return new ConfigError(missing ? 'CONFIG_NOT_FOUND' : 'CONFIG_UNREADABLE', `cannot read the ${what} ${file}: ${messageOf(cause)}`, [], {
    cause,
    evidence: { file, errno: errnoCode(cause) },
    hint: !missing
      ? 'check its permissions'
      : what === 'configuration file'
        ? 'pass an existing file with --config or OVERLAY_WARDEN_CONFIG, or leave both unset to use the defaults'
        : `create it, or fix the setting that names it`,
  });
}
