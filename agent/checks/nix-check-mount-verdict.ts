/** Check: with `check-mount` on, whether Nix's own mount check (emulated on this mount table) lets Nix open the store. */
import { finding, type Finding } from '../findings/index.ts';
import { nixCheckMountOnTable, type NixCheckMountVerdict } from '../mount/index.ts';
import type { StoreLayout } from '../store/index.ts';
import type { Check } from './check.ts';
import { decideLowerLayers } from './lower-layer-option.ts';
import { decideMergedMount } from './merged-mount.ts';
import type { MountFacts } from './mount-facts.ts';
import { decideUpperLayer } from './upper-layer-option.ts';

/** Nix's verdict on the table of `facts` for `layout`, or undefined when the table could not be read. Pure. */
export function nixVerdictFor(facts: MountFacts, layout: StoreLayout): NixCheckMountVerdict | undefined {
  if (facts.status !== 'read') return undefined;
  return nixCheckMountOnTable(facts.table.entries, {
    realStoreDir: layout.mergedStoreDir,
    lowerRealStoreDir: layout.lower.realStoreDir,
    upperLayer: layout.upperLayer,
  });
}

/**
 * Decides (pure): `mount.nix-check-mount-refuses` (error) when the store URL leaves `check-mount` on, an overlay is
 * mounted at the merged store dir, and Nix's regex check would refuse it, so Nix cannot open the store at all.
 * Nothing when check-mount is off, or when nothing is mounted (`mount.not-mounted` says so already). Switching
 * Nix's check off is advised only when overlay-warden's own check finds the mount to be the one the URL describes
 * (no error from the merged-mount, lower-layer and upper-layer decisions): when it is not, Nix refuses for the same
 * fault (a typo in `lower-store`, say), and the hint names the settings to fix instead.
 */
export function decideNixCheckMount(facts: MountFacts, layout: StoreLayout, verdict: NixCheckMountVerdict | undefined): Finding[] {
  if (!layout.checkMount || verdict === undefined || verdict.accepted || facts.status !== 'read' || facts.overlay === undefined) return [];
  const reasons =
    verdict.regexError !== undefined
      ? [`a store path does not compile as a regular expression (${verdict.regexError})`]
      : verdict.matchedLine === undefined
        ? [`no line of /proc/self/mounts starts with 'overlay ${layout.mergedStoreDir} ' (Nix matches the mount source, unescaped paths, as a regex)`]
        : [
            ...(verdict.lowerdirMatched ? [] : [`it needs 'lowerdir=${layout.lower.realStoreDir}' followed by a space or comma (one lowerdir, no escapes)`]),
            ...(verdict.upperdirMatched ? [] : [`it needs 'upperdir=${layout.upperLayer}' followed by a space or comma`]),
          ];
  const ownErrors = [...decideMergedMount(facts), ...decideLowerLayers(facts), ...decideUpperLayer(facts)].filter((f) => f.severity === 'error');
  const settings = [...new Set(ownErrors.map((f) => f.evidence['setting']).filter((s): s is string => typeof s === 'string'))];
  const wrong = ownErrors.length > 0;
  return [
    finding(
      'mount.nix-check-mount-refuses',
      'error',
      `Nix's own check-mount will refuse this store ("${verdict.message}"), so Nix cannot open it while check-mount is on: ${reasons.join('; ')}${
        wrong ? `; overlay-warden's check finds the mount is not the one the store URL describes either (${ownErrors.map((f) => f.id).join(', ')})` : ''
      }`,
      {
        nixMessage: verdict.message ?? null,
        nixMountLine: verdict.matchedLine ?? null,
        lowerdirMatched: verdict.lowerdirMatched,
        upperdirMatched: verdict.upperdirMatched,
        mountAsConfigured: !wrong,
        ...(wrong ? { mountErrors: ownErrors.map((f) => f.id) } : {}),
        mountinfo: facts.overlay.line,
        mountinfoFile: facts.mountinfoFile,
      },
      wrong
        ? `fix the store URL${settings.length > 0 ? ` (${settings.map((s) => `\`${s}\``).join(', ')})` : ''} or the mount first, as the ${ownErrors.map((f) => f.id).join(', ')} finding${ownErrors.length === 1 ? ' says' : 's say'}: Nix refuses for the same fault, so keep check-mount on`
        : 'set check-mount=false in the store URL (as Replit does) and let overlay-warden check the mount instead: at boot and after every remount',
    ),
  ];
}

export const nixCheckMountCheck: Check = {
  id: 'mount.nix-check-mount',
  title: "Nix's own check-mount accepts the mount",
  run: (context) =>
    decideNixCheckMount(
      context.mount,
      context.config.layout,
      context.config.layout.checkMount ? nixVerdictFor(context.mount, context.config.layout) : undefined,
    ),
};
