/** The nix.conf lines that point Nix at the store `overlay-warden mount` sets up (`mount --print-nix-conf`). Pure. */
import { escapeMountinfoOptionValue, escapeMountinfoPath, formatLowerdir, nixCheckMount, type NixCheckMountVerdict, type OverlaySpec } from '../mount/index.ts';
import { formatStoreUrl, parseStoreUrl, type StoreLayout } from '../store/index.ts';

/** Nix's experimental feature that local-overlay stores need (Nix refuses the store URL without it). */
export const LOCAL_OVERLAY_FEATURE = 'local-overlay-store';

export interface NixConfForStore {
  /** The `store =` value: the configured store URL with `remount-hook` and, where needed, `check-mount=false`. */
  readonly storeUrl: string;
  /** Whether the URL switches Nix's own mount check off. */
  readonly checkMountOff: boolean;
  /** Why check-mount is off (Nix's check would refuse a mount that is right), or why it stays on. */
  readonly checkMountReason: string;
  /** The whole text: comments, `extra-experimental-features` and `store`, one setting a line. */
  readonly text: string;
}

export interface NixConfInput {
  readonly layout: StoreLayout;
  /** The installed hooks/nix-remount-hook (an absolute path). */
  readonly remountHook: string;
  /** Nix's verdict on the mount (the real one, or the one predicted for the planned mount). */
  readonly verdict: NixCheckMountVerdict;
  /** Where the verdict comes from, for the comment: the mount table, or a prediction before mounting. */
  readonly verdictSource: 'mount table' | 'planned mount';
  /** overlay-warden's own check finds the mount is the one the URL describes (or, before mounting, it will be). */
  readonly mountAsConfigured: boolean;
}

/**
 * The settings for Nix: the store URL as configured, with `remount-hook` set to the installed hook and `check-mount`
 * switched off only when Nix's own check would refuse a mount that overlay-warden's check accepts (when the mount is
 * wrong, Nix refuses rightly and the check stays on). The lower store URL is %-escaped inside the URL, as Nix needs;
 * `parseStoreUrl(storeUrl)` gives back the same settings. Pure; throws StoreUrlError only if the layout's URL does not
 * parse (it parsed when the configuration was loaded).
 */
export function nixConfForStore(input: NixConfInput): NixConfForStore {
  const { layout, verdict } = input;
  const checkMountOff = !verdict.accepted && input.mountAsConfigured;
  const storeUrl = formatStoreUrl(parseStoreUrl(layout.url), {
    'remount-hook': input.remountHook,
    'check-mount': checkMountOff ? 'false' : undefined,
  });
  const checkMountReason = checkMountOff
    ? `Nix's own check-mount would refuse this mount (${refusalReason(verdict, layout)}), although it is the one the store URL describes; overlay-warden checks the mount instead`
    : verdict.accepted
      ? "Nix's own check-mount accepts this mount, so it stays on"
      : "Nix's own check-mount refuses this mount, and rightly: it is not the one the store URL describes (run `overlay-warden check`)";
  const text = [
    `# Nix settings for the local-overlay store at ${layout.mergedStoreDir}, from \`overlay-warden mount --print-nix-conf\`.`,
    '# Put them in the nix.conf of every Nix that uses this store (and of nix-daemon), e.g. /etc/nix/nix.conf.',
    `# check-mount: ${checkMountReason} (judged on the ${input.verdictSource}).`,
    `extra-experimental-features = ${LOCAL_OVERLAY_FEATURE}`,
    `store = ${storeUrl}`,
    '',
  ].join('\n');
  return { storeUrl, checkMountOff, checkMountReason, text };
}

/**
 * Nix's verdict on the overlay `spec` describes, before it is mounted: the line /proc/self/mounts will show for it
 * (source `overlay`, options as the kernel prints them), run through the emulation of Nix's check. Pure.
 */
export function predictNixCheckMount(spec: OverlaySpec, layout: StoreLayout): NixCheckMountVerdict {
  const options = [
    'rw',
    'relatime',
    `lowerdir=${escapeMountinfoOptionValue(formatLowerdir(spec.lowerDirs.map((path) => ({ path, dataOnly: false }))))}`,
    `upperdir=${escapeMountinfoOptionValue(spec.upperDir)}`,
    `workdir=${escapeMountinfoOptionValue(spec.workDir)}`,
    ...(spec.extraOptions ?? []),
  ];
  const line = `overlay ${escapeMountinfoPath(spec.mergedDir)} overlay ${options.join(',')} 0 0\n`;
  return nixCheckMount(line, { realStoreDir: layout.mergedStoreDir, lowerRealStoreDir: layout.lower.realStoreDir, upperLayer: layout.upperLayer });
}

function refusalReason(verdict: NixCheckMountVerdict, layout: StoreLayout): string {
  if (verdict.regexError !== undefined) return `a path is not a valid regular expression to it: ${verdict.regexError}`;
  if (verdict.matchedLine === undefined) return `it finds no /proc/self/mounts line starting 'overlay ${layout.mergedStoreDir} '`;
  const missing = [
    ...(verdict.lowerdirMatched ? [] : [`'lowerdir=${layout.lower.realStoreDir}' alone (it reads one lowerdir, unescaped)`]),
    ...(verdict.upperdirMatched ? [] : [`'upperdir=${layout.upperLayer}' unescaped`]),
  ];
  return `it looks for ${missing.join(' and ')}`;
}
