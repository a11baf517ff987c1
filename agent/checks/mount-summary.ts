/** Check: one `mount.ok` finding when the mount checks found nothing wrong, saying what was verified. */
import { finding, type Finding } from '../findings/index.ts';
import type { Check } from './check.ts';
import { decideLowerLayers } from './lower-layer-option.ts';
import { decideMergedMount } from './merged-mount.ts';
import { mountLineEvidence, type MountFacts } from './mount-facts.ts';
import { decideMountOptions } from './mount-options.ts';
import { decideUpperLayer } from './upper-layer-option.ts';

/**
 * Decides (pure): `mount.ok` (info) when the merged store dir shows an overlay, nothing is stacked on it, and the
 * merged-mount, lower-layer, upper-layer and option decisions raise no error or warning. Their findings are not
 * repeated (their own checks report them); this only summarises.
 */
export function decideMountSummary(facts: MountFacts, expectReadOnly: boolean): Finding[] {
  if (facts.status !== 'read' || facts.overlay === undefined || facts.visible !== facts.overlay || facts.options === undefined) return [];
  const found = [...decideMergedMount(facts), ...decideLowerLayers(facts), ...decideUpperLayer(facts), ...decideMountOptions(facts, expectReadOnly)];
  if (found.some((f) => f.severity !== 'info')) return [];
  const lower = facts.lowers.find((l) => l.path === facts.expected.lowerStoreDir.path);
  return [
    finding(
      'mount.ok',
      'info',
      `the store at ${facts.expected.merged.path} is mounted as configured: an overlay with the lower store as lower layer ${lower?.position ?? '?'} of ${facts.lowers.length} and upperdir ${facts.upper?.path}`,
      {
        ...mountLineEvidence(facts, facts.overlay),
        lowerLayers: facts.lowers.map((l) => l.path),
        upperdir: facts.upper?.path ?? null,
        workdir: facts.work?.path ?? null,
        ...(facts.below.length === 0 ? {} : { hiddenBelow: facts.below.map((e) => e.line) }),
      },
    ),
  ];
}

export const mountSummaryCheck: Check = {
  id: 'mount.summary',
  title: 'mount verified',
  run: (context) => decideMountSummary(context.mount, context.config.checks.expectReadOnly),
};
