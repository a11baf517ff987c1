/** Loads the configuration: YAML file, then environment, then command-line flags; validates once; freezes. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.ts';
import type { z } from 'zod';
import { ConfigError, describeProblem, type ConfigProblem } from './config-error.ts';
import { readConfigFile } from './config-file.ts';
import type { ConfigSettings } from './config-schema.ts';
import { schemaModules, type SchemaModules } from './schema-modules.ts';
import { simpleSettings } from './simple-settings.ts';
import { resolveStoreFromSettings } from './store-from-settings.ts';
import { checkSecretFile, checkTokenFile, WEBHOOK_SECRET } from './token-file.ts';
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
  /** `run --alertmanager-url` (repeatable): replace alerts.alertmanager.urls. */
  readonly alertmanagerUrls?: readonly string[] | undefined;
  /** `run --webhook-url` (with `--webhook-secret-file`): one more entry of alerts.webhooks. */
  readonly webhookUrl?: string | undefined;
  readonly webhookSecretFile?: string | undefined;
}

export interface ConfigSources {
  readonly flags: ConfigFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Used when neither `--config` nor OVERLAY_WARDEN_CONFIG names a file; may be absent. */
  readonly defaultFile?: string;
  /** Skip the ownership checks of the config file (tests of files under a checkout owned by someone else); its type and size are still checked. */
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

/** Problems listed in a CONFIG_INVALID message and its evidence; the rest are counted (a file of 100,000 unknown keys stays one screen). */
export const MAX_REPORTED_PROBLEMS = 20;

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
 * CONFIG_INSECURE, CONFIG_TOO_LARGE, CONFIG_NO_STORE or CONFIG_STORE) listing
 * the bad keys (the first MAX_REPORTED_PROBLEMS, and how many more) with their
 * values, what was expected, and the file line, variable or flag each came
 * from. Every file is read through the trust checks with a cap (readConfigFile,
 * the nix.conf reader; `http.tokenFile` is checked, not read), so loading never
 * blocks and never reads without end. Never returns a half-valid config.
 */
export function loadConfig(sources: ConfigSources): Config {
  const explicit = sources.flags.config ?? sources.env['OVERLAY_WARDEN_CONFIG'];
  const file = explicit ?? (sources.defaultFile !== undefined && existsSync(sources.defaultFile) ? sources.defaultFile : undefined);
  const origin = new Map<string, string>();
  const { raw, where } = file === undefined ? { raw: {}, where: () => undefined } : readConfigFile(file, sources.trustAnyFile !== true);

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
  applyAlertFlags(raw as Record<string, unknown>, sources.flags, origin);
  storeOverride('nixConf', sources.flags.nixConf, '--nix-conf');
  storeOverride('url', sources.flags.store, '--store');

  const settings = simpleSettings(raw) ?? validSettings(raw, file, origin, where);
  const { layout, source } = resolveStoreFromSettings(settings.store, (key) => origin.get(`store.${key}`) ?? where(['store', key]), sources.env);
  if (settings.http.tokenFile !== undefined) checkTokenFile(settings.http.tokenFile);
  for (const webhook of settings.alerts.webhooks) if (webhook.secretFile !== undefined) checkSecretFile(webhook.secretFile, WEBHOOK_SECRET);
  return deepFreeze({ ...settings, file, layout, storeSource: source });
}

/**
 * `raw` validated by the schema, with its defaults. Throws ConfigError CONFIG_INVALID naming every problem (the first
 * MAX_REPORTED_PROBLEMS) with the source each came from.
 */
function validSettings(
  raw: object,
  file: string | undefined,
  origin: ReadonlyMap<string, string>,
  where: (path: readonly PropertyKey[]) => string | undefined,
): ConfigSettings {
  const modules = schemaModules();
  const parsed = modules.schema.configSchema.safeParse(raw, { reportInput: true, error: modules.expectations.expectationOf });
  if (!parsed.success) {
    const { problems, count } = problemsOf(modules, parsed.error.issues, origin, where);
    const more = count > problems.length ? `\n  … and ${count - problems.length} more` : '';
    throw new ConfigError(
      'CONFIG_INVALID',
      `invalid configuration${file === undefined ? '' : ` in ${file}`}:\n  ${problems.map(describeProblem).join('\n  ')}${more}`,
      problems,
      {
        evidence: { file, problemCount: count },
        hint: `fix the key${count > 1 ? 's' : ''} named above; config/overlay-warden.example.yaml documents every setting`,
      },
    );
  }
  return parsed.data;
}

/**
 * The first MAX_REPORTED_PROBLEMS problems of the issues, and how many there are in all; each message says what the
 * key takes (the schema's own words, or expectationOf's). Linear in the number of issues and unknown keys.
 */
function problemsOf(
  { schema, expectations }: SchemaModules,
  issues: readonly z.core.$ZodIssue[],
  origin: ReadonlyMap<string, string>,
  where: (path: readonly PropertyKey[]) => string | undefined,
): { problems: ConfigProblem[]; count: number } {
  const problems: ConfigProblem[] = [];
  let count = 0;
  const sourceOf = (keys: readonly string[]): string | undefined => origin.get(keys.join('.')) ?? where(keys);
  for (const issue of issues) {
    const path = issue.path.map(String);
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    count += keys.length;
    // Only the problems reported are built (suggestions included): the rest are counted.
    for (const key of keys.slice(0, MAX_REPORTED_PROBLEMS - problems.length)) {
      if (key === undefined) {
        const suggestions = issue.code === 'invalid_value' ? expectations.nearestValues(issue.input, issue.values) : [];
        problems.push({ key: path.join('.'), value: issue.input, expected: issue.message, source: sourceOf(path), suggestions });
      } else {
        const value: unknown = (issue.input as Record<string, unknown> | undefined)?.[key];
        const suggestions = expectations.nearestKeys(schema.configSchema, path, key);
        problems.push({ key: [...path, key].join('.'), value, expected: issue.message, unknownKey: true, source: sourceOf([...path, key]), suggestions });
      }
    }
  }
  return { problems, count };
}

/** The alert sink flags of `run`, merged into the raw settings (before validation, so a bad URL is named with its flag). */
function applyAlertFlags(raw: Record<string, unknown>, flags: ConfigFlags, origin: Map<string, string>): void {
  const { alertmanagerUrls, webhookUrl, webhookSecretFile } = flags;
  if ((alertmanagerUrls?.length ?? 0) === 0 && webhookUrl === undefined && webhookSecretFile === undefined) return;
  const prior = raw['alerts'];
  const alerts = (raw['alerts'] = typeof prior === 'object' && prior !== null ? { ...prior } : {}) as Record<string, unknown>;
  if (alertmanagerUrls !== undefined && alertmanagerUrls.length > 0) {
    alerts['alertmanager'] = { ...(alerts['alertmanager'] as object | undefined), urls: [...alertmanagerUrls] };
    origin.set('alerts.alertmanager.urls', '--alertmanager-url');
    alertmanagerUrls.forEach((_, i) => origin.set(`alerts.alertmanager.urls.${i}`, '--alertmanager-url'));
  }
  if (webhookUrl !== undefined || webhookSecretFile !== undefined) {
    const webhooks = Array.isArray(alerts['webhooks']) ? (alerts['webhooks'] as unknown[]) : [];
    const index = webhooks.length;
    alerts['webhooks'] = [...webhooks, { url: webhookUrl, ...(webhookSecretFile === undefined ? {} : { secretFile: webhookSecretFile }) }];
    origin.set(`alerts.webhooks.${index}.url`, '--webhook-url');
    origin.set(`alerts.webhooks.${index}.secretFile`, '--webhook-secret-file');
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
