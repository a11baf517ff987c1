/** Loads the configuration: YAML file, then environment, then command-line flags; validates once; freezes. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.ts';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { errnoCode, messageOf } from '../errors/index.ts';
import { ConfigError, describeProblem, type ConfigProblem } from './config-error.ts';
import { configSchema, type ConfigSettings } from './config-schema.ts';
import { expectationOf, nearestKeys, nearestValues } from './config-expectations.ts';
import { resolveStoreFromSettings } from './store-from-settings.ts';
import { assertTrustedFile } from './trusted-file.ts';
import type { StoreLayout } from '../store/index.ts';

/** The default config file: `config/overlay-warden.yaml` of the project (or of the installed package). */
export const DEFAULT_CONFIG_FILE = join(packageRoot(), 'config', 'overlay-warden.yaml');

/** Command-line flags every command accepts; each overrides the file and the environment. */
export interface ConfigFlags {
  readonly config?: string | undefined;
  readonly store?: string | undefined;
  readonly nixConf?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly mountinfo?: string | undefined;
}

export interface ConfigSources {
  readonly flags: ConfigFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Used when neither `--config` nor OVERLAY_WARDEN_CONFIG names a file; may be absent. */
  readonly defaultFile?: string;
  /** Skip the ownership check (tests of files under a temp dir owned by someone else). */
  readonly trustAnyFile?: boolean;
}

/** The resolved, frozen configuration: settings with defaults, plus the store layout they describe. */
export interface Config extends ConfigSettings {
  /** The config file read, if any. */
  readonly file: string | undefined;
  readonly layout: StoreLayout;
  /** Where the store description came from (for `layout` and error messages). */
  readonly storeSource: string;
}

/** Environment variables and the config key each one sets. */
const ENV_KEYS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['OVERLAY_WARDEN_STATE_DIR', ['stateDir']],
  ['OVERLAY_WARDEN_MOUNTINFO', ['mountinfo']],
  ['OVERLAY_WARDEN_LOG_LEVEL', ['log', 'level']],
  ['OVERLAY_WARDEN_LOG_FORMAT', ['log', 'format']],
  ['OVERLAY_WARDEN_HTTP_ADDRESS', ['http', 'address']],
];

/**
 * Reads, merges and validates the configuration. Throws ConfigError (code
 * CONFIG_NOT_FOUND, CONFIG_UNREADABLE, CONFIG_SYNTAX, CONFIG_INVALID,
 * CONFIG_INSECURE, CONFIG_NO_STORE or CONFIG_STORE) listing every bad key with
 * its value, what was expected, and the file line, variable or flag it came
 * from. Never returns a half-valid config.
 */
export function loadConfig(sources: ConfigSources): Config {
  const explicit = sources.flags.config ?? sources.env['OVERLAY_WARDEN_CONFIG'];
  const file = explicit ?? (sources.defaultFile !== undefined && existsSync(sources.defaultFile) ? sources.defaultFile : undefined);
  const origin = new Map<string, string>();
  const { raw, where } = file === undefined ? { raw: {}, where: () => undefined } : readConfigFile(file, sources.trustAnyFile === true);

  const set = (path: readonly string[], value: string, source: string): void => {
    let node = raw as Record<string, unknown>;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = (node[key] = typeof next === 'object' && next !== null ? next : {}) as Record<string, unknown>;
    }
    node[path.at(-1)!] = value;
    origin.set(path.join('.'), source);
  };
  // A store URL or nix.conf from the environment or a flag describes another
  // store, so it replaces the file's whole store section rather than merging.
  const storeOverride = (key: 'url' | 'nixConf', value: string | undefined, source: string): void => {
    if (value === undefined) return;
    (raw as Record<string, unknown>)['store'] = { [key]: value };
    origin.set(`store.${key}`, source);
  };
  for (const [name, path] of ENV_KEYS) {
    const value = sources.env[name];
    if (value !== undefined && value !== '') set(path, value, `env ${name}`);
  }
  storeOverride('nixConf', sources.env['OVERLAY_WARDEN_NIX_CONF'] || undefined, 'env OVERLAY_WARDEN_NIX_CONF');
  storeOverride('url', sources.env['OVERLAY_WARDEN_STORE'] || undefined, 'env OVERLAY_WARDEN_STORE');
  if (sources.flags.stateDir !== undefined) set(['stateDir'], sources.flags.stateDir, '--state-dir');
  if (sources.flags.mountinfo !== undefined) set(['mountinfo'], sources.flags.mountinfo, '--mountinfo');
  storeOverride('nixConf', sources.flags.nixConf, '--nix-conf');
  storeOverride('url', sources.flags.store, '--store');

  const parsed = configSchema.safeParse(raw, { reportInput: true, error: expectationOf });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => problemsOf(issue, origin, where));
    throw new ConfigError(
      'CONFIG_INVALID',
      `invalid configuration${file === undefined ? '' : ` in ${file}`}:\n  ${problems.map(describeProblem).join('\n  ')}`,
      problems,
      {
        hint: `fix the key${problems.length > 1 ? 's' : ''} named above; config/overlay-warden.example.yaml documents every setting`,
      },
    );
  }
  const settings = parsed.data;
  const { layout, source } = resolveStoreFromSettings(settings.store, (key) => origin.get(`store.${key}`) ?? where(['store', key]), sources.env);
  return deepFreeze({ ...settings, file, layout, storeSource: source });
}

/** Reads and parses the YAML file; `where(path)` maps a key path to `FILE:LINE`. */
function readConfigFile(file: string, trustAnyFile: boolean): { raw: unknown; where: (path: readonly PropertyKey[]) => string | undefined } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const missing = errnoCode(cause) === 'ENOENT';
    throw new ConfigError(missing ? 'CONFIG_NOT_FOUND' : 'CONFIG_UNREADABLE', `cannot read the configuration file ${file}: ${messageOf(cause)}`, [], {
      cause,
      evidence: { file },
      hint: missing ? 'pass an existing file with --config or OVERLAY_WARDEN_CONFIG, or leave both unset to use the defaults' : 'check its permissions',
    });
  }
  if (!trustAnyFile) {
    try {
      assertTrustedFile(file, 'configuration file');
    } catch (cause) {
      const error = cause as ConfigError;
      throw new ConfigError('CONFIG_INSECURE', error.message, [], { cause, evidence: error.evidence, hint: error.hint });
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line ?? lineCounter.linePos(first.pos[0]).line;
    throw new ConfigError('CONFIG_SYNTAX', `${file}:${line}: YAML syntax error: ${first.message.split('\n')[0]}`, [], {
      evidence: { file, line, errors: doc.errors.map((e) => e.message.split('\n')[0]) },
      hint: 'fix the YAML syntax at that line',
    });
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const problem = { key: '', value: raw, expected: 'a mapping of settings (key: value lines)', source: file };
    throw new ConfigError('CONFIG_INVALID', `invalid configuration in ${file}: ${describeProblem(problem)}`, [problem]);
  }
  return { raw, where: (path) => lineOf(doc, lineCounter, file, path) };
}

function lineOf(doc: Document, lineCounter: LineCounter, file: string, path: readonly PropertyKey[]): string | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    // The nearest node that exists: a missing key points at its parent map.
    if (range !== undefined) return `${file}:${lineCounter.linePos(range[0]).line}`;
  }
  return undefined;
}

/** The problems of one issue; its message says what the key takes (the schema's own words, or expectationOf's). */
function problemsOf(
  issue: z.core.$ZodIssue,
  origin: ReadonlyMap<string, string>,
  where: (path: readonly PropertyKey[]) => string | undefined,
): ConfigProblem[] {
  const path = issue.path.map(String);
  const sourceOf = (keys: readonly string[]): string | undefined => origin.get(keys.join('.')) ?? where(keys);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      key: [...path, key].join('.'),
      value: issue.input?.[key],
      expected: issue.message,
      unknownKey: true,
      source: sourceOf([...path, key]),
      suggestions: nearestKeys(configSchema, path, key),
    }));
  }
  const suggestions = issue.code === 'invalid_value' ? nearestValues(issue.input, issue.values) : [];
  return [{ key: path.join('.'), value: issue.input, expected: issue.message, source: sourceOf(path), suggestions }];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
