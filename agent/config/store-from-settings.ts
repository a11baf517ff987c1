/** Turns the `store` settings (a URL, a nix.conf, or URL parameters given one by one) into the resolved store layout. */
import { WardenError } from '../errors/index.ts';
import { formatStoreUrl, parseStoreUrl, readNixConfStoreSetting, resolveStoreLayout, type StoreLayout, type NixEnv } from '../store/index.ts';
import { ConfigError } from './config-error.ts';
import type { StoreSettings } from './config-schema.ts';

/** What the store keys build on when neither a URL nor a nix.conf's `store =` line gives one. */
const BARE_OVERLAY_URL = 'local-overlay://';

/** Config keys that are store URL parameters, and the parameter each one sets. */
const PARAM_OF_KEY = {
  root: 'root',
  real: 'real',
  state: 'state',
  upperLayer: 'upper-layer',
  lowerStore: 'lower-store',
  checkMount: 'check-mount',
  remountHook: 'remount-hook',
} as const satisfies Partial<Record<keyof StoreSettings, string>>;

/**
 * Resolves the store layout the settings describe: the base URL comes from
 * `url`, else from the nix.conf's `store =` line; each parameter key then
 * overrides that URL's parameter (with neither, the keys alone make a
 * `local-overlay://` URL). `sourceOf(key)` says where a key was set, for
 * messages. Throws ConfigError CONFIG_NO_STORE when nothing describes a store,
 * CONFIG_STORE (with the store error as cause) when the URL, the nix.conf or
 * the layout is wrong.
 */
export function resolveStoreFromSettings(
  store: StoreSettings,
  sourceOf: (key: string) => string | undefined,
  env: NixEnv = {},
): { layout: StoreLayout; source: string } {
  const overrides = Object.fromEntries(
    Object.entries(PARAM_OF_KEY).flatMap(([key, param]) => {
      const value = store[key as keyof typeof PARAM_OF_KEY];
      return value === undefined ? [] : [[param, String(value)]];
    }),
  );
  const hasOverrides = Object.keys(overrides).length > 0;
  const at = (key: string): string => {
    const where = sourceOf(key);
    return where === undefined ? `store.${key}` : `store.${key} (${where})`;
  };

  let base: string;
  let source: string;
  try {
    if (store.url !== undefined) {
      [base, source] = [store.url, at('url')];
    } else if (store.nixConf !== undefined) {
      const setting = readNixConfStoreSetting(store.nixConf);
      if (setting === undefined && !hasOverrides) {
        throw new ConfigError('CONFIG_NO_STORE', `${store.nixConf} has no \`store =\` setting, so it does not say which local-overlay store to supervise`, [], {
          evidence: { nixConf: store.nixConf },
          hint: 'set store.url in the configuration, pass --store URL, or point --nix-conf at the nix.conf that sets `store = local-overlay…`',
        });
      }
      [base, source] = setting === undefined ? [BARE_OVERLAY_URL, at('nixConf')] : [setting.value, `${setting.file}:${setting.line}`];
    } else if (hasOverrides) {
      [base, source] = [BARE_OVERLAY_URL, 'store settings'];
    } else {
      throw new ConfigError('CONFIG_NO_STORE', 'no store is configured', [], {
        hint: 'set store.url or store.nixConf in the configuration, or pass --store URL or --nix-conf FILE',
      });
    }
    // The bare `local-overlay://` the keys alone start from lacks upper-layer: only the URL with them is parsed.
    const parsed = base === BARE_OVERLAY_URL ? { base, params: {} } : parseStoreUrl(base);
    const url = hasOverrides ? parseStoreUrl(formatStoreUrl(parsed, overrides)) : parseStoreUrl(base);
    return {
      layout: resolveStoreLayout(url, env),
      source: hasOverrides ? `${source} with ${Object.keys(overrides).join(', ')} from the configuration` : source,
    };
  } catch (error) {
    if (error instanceof ConfigError || !(error instanceof WardenError)) throw error;
    const from =
      store.url !== undefined ? at('url') : store.nixConf !== undefined ? `the store setting of ${store.nixConf} (${at('nixConf')})` : 'the store settings';
    throw new ConfigError('CONFIG_STORE', `${from}: ${error.message}`, [], {
      cause: error,
      evidence: { ...error.evidence, storeError: error.code },
      hint: error.hint,
    });
  }
}
