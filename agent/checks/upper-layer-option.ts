/** Check: the overlay's upperdir is the configured upper layer, and its workdir is on the same filesystem. */
import { finding, type Finding } from '../findings/index.ts';
import type { Check } from './check.ts';
import { mountLineEvidence, type MountFacts } from './mount-facts.ts';

/**
 * Decides from the facts alone (pure), for a readable overlay: `mount.upper-mismatch` (error: no upperdir, or
 * another directory than `upper-layer`, compared after canonicalising both) and `mount.workdir-other-fs` (error:
 * the mount table puts workdir on another filesystem than upperdir; the kernel refuses such a mount, so the table
 * is stale or a mount now covers one of them).
 */
export function decideUpperLayer(facts: MountFacts): Finding[] {
  if (facts.status !== 'read' || facts.overlay === undefined || facts.options === undefined) return [];
  const expected = facts.expected.upperLayer;
  const line = mountLineEvidence(facts, facts.overlay);
  const merged = facts.expected.merged.path;
  const out: Finding[] = [];
  if (facts.upper === undefined) {
    out.push(
      finding(
        'mount.upper-mismatch',
        'error',
        `the overlay at ${merged} has no upperdir (a read-only overlay of lower layers only), but the store's upper layer is ${expected.path}: nothing Nix adds can be written`,
        { ...line, expected: expected.path, actual: null, setting: expected.setting },
        `mount the overlay with upperdir=${expected.path},workdir=DIR (DIR empty, on the same filesystem)`,
      ),
    );
    return out;
  }
  if (facts.upper.path !== expected.path) {
    out.push(
      finding(
        'mount.upper-mismatch',
        'error',
        `the overlay's upperdir is ${facts.upper.path}, but the store URL's \`upper-layer\` is ${expected.path}: Nix would delete paths in a directory that is not the overlay's upper layer`,
        {
          ...line,
          expected: expected.path,
          actual: facts.upper.path,
          setting: expected.setting,
          configured: expected.given,
          canonicalised: expected.how,
          upperdirGiven: facts.upper.given,
          upperdirCanonicalised: facts.upper.how,
        },
        `set \`upper-layer=${facts.upper.path}\` in the store URL if that is the upper layer, or mount the overlay with upperdir=${expected.path}`,
      ),
    );
  }
  if (facts.upperFs !== undefined && facts.workFs !== undefined && facts.upperFs.device !== facts.workFs.device) {
    out.push(
      finding(
        'mount.workdir-other-fs',
        'error',
        `the overlay's workdir ${facts.work?.path} is on the ${facts.workFs.fsType} filesystem at ${facts.workFs.mountPoint}, but its upperdir ${facts.upper.path} is on the ${facts.upperFs.fsType} filesystem at ${facts.upperFs.mountPoint}; OverlayFS needs both on one filesystem (it refuses to mount otherwise), so a mount now covers one of them or this table is stale`,
        { ...line, upperdir: facts.upper.path, workdir: facts.work?.path, upperFs: facts.upperFs, workFs: facts.workFs },
        'unmount what now covers the upper or work dir, or mount the overlay again with a workdir next to the upperdir',
      ),
    );
  }
  return out;
}

export const upperLayerOptionCheck: Check = {
  id: 'mount.upper',
  title: 'upperdir is the upper layer; workdir on its filesystem',
  run: (context) => decideUpperLayer(context.mount),
};
