/** Check: with `check-mount` on, whether Nix's own mount check (emulated on this mount table) lets Nix open the store. */
import { finding, type Finding } from '../findings/index.ts';
import { nixCheckMountOnTable, type NixCheckMountVerdict } from '../mount/index.ts';
import type { StoreLayout } from '../store/index.ts';
import type { Check } from './check.ts';
import type { MountFacts } from './mount-facts.ts';

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
 * Nothing when check-mount is off, or when nothing is mounted (`mount.not-mounted` says so already).
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
  return [
    finding(
      'mount.nix-check-mount-refuses',
      'error',
      `Nix's own check-mount will refuse this store ("${verdict.message}"), so Nix cannot open it while check-mount is on: ${reasons.join('; ')}`,
      {
        nixMessage: verdict.message ?? null,
        nixMountLine: verdict.matchedLine ?? null,
        lowerdirMatched: verdict.lowerdirMatched,
        upperdirMatched: verdict.upperdirMatched,
        mountinfo: facts.overlay.line,
        mountinfoFile: facts.mountinfoFile,
      },
      'set check-mount=false in the store URL (as Replit does) and let overlay-warden check the mount instead: at boot and after every remount',
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
