/** Check: the lower store's real store dir is a lower layer of the overlay, the first one, and which other layers there are. */
import { finding, type Finding } from '../findings/index.ts';
import type { Check } from './check.ts';
import { mountLineEvidence, type MountFacts, type MountedLayer } from './mount-facts.ts';

/** A layer as evidence: position, path as given and as compared, and how it was resolved. */
function describeLayer(layer: MountedLayer): Record<string, unknown> {
  return { position: layer.position, option: layer.option, dataOnly: layer.dataOnly, given: layer.given, path: layer.path, how: layer.how };
}

/**
 * Decides from the facts alone (pure), for a readable overlay: `mount.lower-missing` (error: no lower layer is the
 * lower store's real store dir), `mount.lower-data-only` (error: it is, but as a data-only layer, whose files are
 * only reachable through metacopy redirects), `mount.lower-not-first` (warning: layers above it shadow its objects,
 * so what users see is not what its DB describes), `mount.extra-lower-layers` (info, listing every other layer).
 * Nothing when there is no overlay to look at (`mount.merged` reports that).
 */
export function decideLowerLayers(facts: MountFacts): Finding[] {
  if (facts.status !== 'read' || facts.overlay === undefined || facts.options === undefined) return [];
  const expected = facts.expected.lowerStoreDir;
  const line = mountLineEvidence(facts, facts.overlay);
  const index = facts.lowers.findIndex((l) => l.path === expected.path);
  const out: Finding[] = [];
  const layers = facts.lowers.map(describeLayer);
  if (index < 0) {
    out.push(
      finding(
        'mount.lower-missing',
        'error',
        `the lower store's store dir ${expected.path} (from the store URL's \`lower-store\`) is not a lower layer of the overlay at ${facts.expected.merged.path}; its lower layers are ${facts.lowers.map((l) => l.path).join(', ')}`,
        {
          ...line,
          expected: expected.path,
          setting: expected.setting,
          configured: expected.given,
          canonicalised: expected.how,
          actual: facts.lowers.map((l) => l.path),
          lowerLayers: layers,
        },
        `mount the overlay with lowerdir=${expected.path} (first), or set \`lower-store\` to the store whose real store dir is the lowerdir`,
      ),
    );
    return out;
  }
  const lower = facts.lowers[index]!;
  if (lower.dataOnly) {
    out.push(
      finding(
        'mount.lower-data-only',
        'error',
        `the lower store's store dir ${expected.path} is a data-only layer (position ${lower.position}) of the overlay at ${facts.expected.merged.path}: its store objects are not visible, only reachable through metacopy redirects`,
        { ...line, expected: expected.path, setting: expected.setting, lowerLayer: describeLayer(lower), lowerLayers: layers },
        `give it as a regular layer: lowerdir=${expected.path} first (not after '::', not as datadir+=)`,
      ),
    );
  } else if (index > 0) {
    const above = facts.lowers.slice(0, index);
    out.push(
      finding(
        'mount.lower-not-first',
        'warning',
        `the lower store's store dir ${expected.path} is lower layer ${lower.position}, under ${above.map((l) => l.path).join(', ')}: files there shadow the lower store's objects, so the merged store can differ from what the lower store's DB describes`,
        {
          ...line,
          expected: `${expected.path} as lower layer 1`,
          actual: `lower layer ${lower.position}`,
          setting: expected.setting,
          layersAbove: above.map(describeLayer),
          lowerLayers: layers,
        },
        `mount with lowerdir=${expected.path}:${above.map((l) => l.path).join(':')} (the lower store first), unless shadowing it is intended`,
      ),
    );
  }
  const extra = facts.lowers.filter((l) => l !== lower);
  if (extra.length > 0) {
    out.push(
      finding(
        'mount.extra-lower-layers',
        'info',
        `the overlay at ${facts.expected.merged.path} has ${extra.length} lower layer(s) besides the lower store: ${extra.map((l) => `${l.path} (${l.position}${l.dataOnly ? ', data-only' : ''})`).join(', ')}; Nix does not know of them, and overlay-warden treats them as part of what is below the upper layer`,
        { ...line, lowerStoreLayer: lower.position, extraLayers: extra.map(describeLayer) },
        'nothing to do if they are meant to be there (Replit-style module layers); their contents are visible in the store but registered in no DB Nix reads',
      ),
    );
  }
  return out;
}

export const lowerLayerOptionCheck: Check = {
  id: 'mount.lower',
  title: 'lower store is the first lower layer',
  run: (context) => decideLowerLayers(context.mount),
};
