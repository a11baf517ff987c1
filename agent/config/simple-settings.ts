/**
 * The settings of a configuration that only names the store and overlay-warden's paths (the shipped default file,
 * `--store`, `--state-dir`, `--mountinfo`), worked out without the schema library: loading zod costs a one-shot command
 * (`check` in a readiness probe, `layout`) more than the rest of its work. Anything else goes to the schema.
 */
import type { ConfigSettings, StoreSettings } from './config-schema.ts';
import { parseAmount } from './byte-size.ts';

/**
 * What configSchema gives for an empty configuration, made fresh on each call (loadConfig freezes what it returns).
 * The schema is the authority: a test holds the two equal, so a default changed there must be changed here too.
 */
export function defaultSettings(): ConfigSettings {
  return {
    store: { nixConf: '/etc/nix/nix.conf' },
    stateDir: '/var/lib/overlay-warden',
    mountinfo: '/proc/self/mountinfo',
    checks: { expectReadOnly: false, upperMinFreeSpace: parseAmount('5%')!, upperMinFreeInodes: parseAmount('5%')!, disable: [], intervalSeconds: 60 },
    mount: { extraLowerDirs: [], options: [] },
    remount: { timeoutSeconds: 60, attempts: 3, backoffSeconds: 2, coalesceMs: 1000 },
    watch: { debounceMs: 200, mountPollMs: 1000, daemonPollMs: 30_000, daemonTimeoutMs: 10_000 },
    pool: { size: 'auto' },
    http: { address: '127.0.0.1:9873' },
    alerts: {
      alertmanager: { urls: [] },
      webhooks: [],
      commands: [],
      resendSeconds: 60,
      driftHoldSeconds: 0,
      timeoutSeconds: 10,
      backoffSeconds: 1,
      maxBackoffSeconds: 60,
      maxBatch: 500,
      sinkFailingAfter: 3,
      labels: {},
    },
    schedule: {
      audit: { afterDrift: 10_000, maxDelay: 300_000, every: 86_400_000 },
      scrub: { every: 86_400_000, maxReadMBps: 50, threads: 1, layers: 'upper' },
    },
    control: { socket: '/run/overlay-warden/control.sock' },
    log: { level: 'info', format: 'auto' },
  };
}

const isAbsolutePath = (value: unknown): value is string => typeof value === 'string' && value.startsWith('/') && !value.includes('\0');
const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/** The store keys this fast path accepts, each with the schema's test of its value. */
const STORE_KEYS: Readonly<Record<string, (value: unknown) => boolean>> = {
  url: isNonEmptyString,
  nixConf: isAbsolutePath,
  root: isAbsolutePath,
  real: isAbsolutePath,
  state: isAbsolutePath,
  upperLayer: isAbsolutePath,
  lowerStore: isNonEmptyString,
  checkMount: (value) => typeof value === 'boolean',
  remountHook: isAbsolutePath,
};
const PATH_KEYS = ['stateDir', 'mountinfo'] as const;

/**
 * The settings configSchema would give for `raw` when raw sets nothing but `store` keys, `stateDir` and `mountinfo`
 * with values the schema accepts; undefined for anything else (another key, a value the schema may refuse or
 * transform), which is then the schema's to validate and word. Pure; never throws.
 */
export function simpleSettings(raw: unknown): ConfigSettings | undefined {
  if (!isPlainObject(raw)) return undefined;
  const settings = defaultSettings() as { -readonly [K in keyof ConfigSettings]: ConfigSettings[K] };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'store') {
      const store = simpleStore(value);
      if (store === undefined) return undefined;
      settings.store = store;
    } else if ((PATH_KEYS as readonly string[]).includes(key) && isAbsolutePath(value)) {
      settings[key as (typeof PATH_KEYS)[number]] = value;
    } else {
      return undefined;
    }
  }
  return settings;
}

function simpleStore(value: unknown): StoreSettings | undefined {
  if (!isPlainObject(value)) return undefined;
  // Both would give the whole store URL: the schema refuses that, with its own message.
  if (value['url'] !== undefined && value['nixConf'] !== undefined) return undefined;
  const store: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(value)) {
    const accepts = Object.hasOwn(STORE_KEYS, key) ? STORE_KEYS[key] : undefined;
    if (accepts === undefined || !accepts(setting)) return undefined;
    store[key] = setting;
  }
  return store as StoreSettings;
}
