/** Check: the store URL in nix.conf (when the configuration names one) is the store that is checked, and agrees with what is mounted. */
import { WardenError } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import { readNixConfStoreSetting, resolveStoreLayout, parseStoreUrl, type StoreLayout, type NixConfSetting, type NixEnv } from '../store/index.ts';
import type { Check } from './check.ts';
import type { RealpathView } from './layer-paths.ts';
import { expectedLayout, FS_VIEW, type ExpectedLayout, type MountFacts } from './mount-facts.ts';

/** What nix.conf says the store is: its `store =` line, and the layout it resolves to (or why it does not). */
export interface NixConfStore {
  readonly file: string;
  /** Undefined when nix.conf sets no store (Nix then uses `auto`: the plain local store or the daemon). */
  readonly setting: NixConfSetting | undefined;
  readonly layout: StoreLayout | undefined;
  /** Its paths canonicalised the way the configured ones were. */
  readonly expected: ExpectedLayout | undefined;
  /** Why the setting gives no local-overlay layout. */
  readonly error: { readonly code: string; readonly message: string } | undefined;
}

/** Reads nix.conf's `store =` (includes followed) and resolves it. Throws NixConfError for an unreadable nix.conf. */
export function readNixConfStore(file: string, env: NixEnv, view: RealpathView = FS_VIEW): NixConfStore {
  const setting = readNixConfStoreSetting(file);
  if (setting === undefined) return { file, setting, layout: undefined, expected: undefined, error: undefined };
  try {
    const layout = resolveStoreLayout(parseStoreUrl(setting.value), env);
    return { file, setting, layout, expected: expectedLayout(layout, view), error: undefined };
  } catch (error) {
    if (!(error instanceof WardenError)) throw error;
    return { file, setting, layout: undefined, expected: undefined, error: { code: error.code, message: error.message } };
  }
}

/** One part of the layout where nix.conf and the configuration differ. */
interface Difference {
  readonly part: string;
  readonly nixConf: string;
  readonly configured: string;
  /** Whether nix.conf's value is what the mount table shows; undefined when the table could not be read. */
  readonly nixConfMatchesMount: boolean | undefined;
}

/**
 * Decides (pure): `mount.nix-conf-mismatch` when nix.conf sets no store (Nix uses its default store, not this
 * overlay), a store that is not a usable local-overlay URL, or one whose merged store dir, lower store dir, upper
 * layer or state dir differ from the configured ones. Error when Nix's store disagrees with the mount (or nothing
 * is known of the mount), warning when only the configuration is off.
 */
export function decideNixConfAgreement(configured: ExpectedLayout, configuredLayout: StoreLayout, nixConf: NixConfStore, facts: MountFacts): Finding[] {
  const where = nixConf.setting === undefined ? nixConf.file : `${nixConf.setting.file}:${nixConf.setting.line}`;
  const base = { nixConf: where, nixConfStore: nixConf.setting?.value ?? null, configuredStore: configuredLayout.url };
  const hint = `make \`store =\` in ${nixConf.file} the local-overlay URL that describes the mount (the one overlay-warden checks: ${configuredLayout.url})`;
  if (nixConf.setting === undefined) {
    return [
      finding(
        'mount.nix-conf-mismatch',
        'error',
        `${nixConf.file} sets no \`store\`, so Nix uses its default store (auto), not the local-overlay store at ${configured.merged.path}`,
        base,
        hint,
      ),
    ];
  }
  if (nixConf.layout === undefined || nixConf.expected === undefined) {
    return [
      finding(
        'mount.nix-conf-mismatch',
        'error',
        `the \`store\` in ${where} is not a local-overlay store overlay-warden can check: ${nixConf.error?.message ?? 'unknown reason'}`,
        { ...base, code: nixConf.error?.code ?? null },
        hint,
      ),
    ];
  }
  const n = nixConf.expected;
  const read = facts.status === 'read' ? facts : undefined;
  const differences: Difference[] = [];
  const compare = (part: string, nix: string, ours: string, onMount: () => boolean): void => {
    if (nix !== ours) differences.push({ part, nixConf: nix, configured: ours, nixConfMatchesMount: read === undefined ? undefined : onMount() });
  };
  compare('merged store dir', n.merged.path, configured.merged.path, () => read?.table.findVisibleMount(n.merged.path)?.fsType === 'overlay');
  compare('lower store dir', n.lowerStoreDir.path, configured.lowerStoreDir.path, () => read?.lowers.some((l) => l.path === n.lowerStoreDir.path) === true);
  compare('upper layer', n.upperLayer.path, configured.upperLayer.path, () => read?.upper?.path === n.upperLayer.path);
  compare('state dir (upper DB)', nixConf.layout.stateDir, configuredLayout.stateDir, () => true);
  if (differences.length === 0) return [];
  const againstMount = differences.some((d) => d.nixConfMatchesMount !== true);
  return [
    finding(
      'mount.nix-conf-mismatch',
      againstMount ? 'error' : 'warning',
      `Nix's store (${where}) differs from the one overlay-warden checks in its ${differences.map((d) => `${d.part} (${d.nixConf} instead of ${d.configured})`).join(', ')}${againstMount ? '; Nix would use a store that does not match the mount' : '; nix.conf agrees with the mount, so the configuration is what is off'}`,
      { ...base, differences },
      againstMount ? hint : 'take the store from nix.conf (store.nixConf, without overriding keys) so overlay-warden checks the store Nix uses',
    ),
  ];
}

export const nixConfAgreementCheck: Check = {
  id: 'mount.nix-conf',
  title: "nix.conf's store agrees with the mount",
  run(context) {
    // An explicit nix.conf to compare with, else the one the store comes from (the schema refuses it beside store.url).
    const file = context.config.checks.nixConf ?? context.config.store.nixConf;
    if (file === undefined) return [];
    return decideNixConfAgreement(context.mount.expected, context.config.layout, readNixConfStore(file, context.env), context.mount);
  },
};
