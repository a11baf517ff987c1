/**
 * `overlay-warden mount` (and `run --mount`): sets the store overlay up from the configuration, or leaves a correct
 * one alone, and checks the result. A wrong existing mount is refused, never replaced.
 */
import { enabledChecks, gatherCheckContext, runChecks, type CheckContext, type MountFacts } from '../checks/index.ts';
import type { Config } from '../config/index.ts';
import type { Finding } from '../findings/index.ts';
import { mountOverlay } from '../mount/index.ts';
import type { NixEnv } from '../store/index.ts';
import { prepareLayerDirs, type CreatedDir } from './layer-dirs.ts';
import { MountSetupError, planOverlay, type OverlayPlan } from './overlay-plan.ts';
import { unmountPath } from './unmount-path.ts';

/**
 * - `mounted`: this run mounted the overlay and the check afterwards found it right;
 * - `already-mounted`: the overlay was there and right, and was left alone;
 * - `refused`: the overlay there is not the configured one (left alone), or the one this run mounted was not
 *   (taken down again): `findings` say why;
 * - `would-mount`: a dry run, nothing mounted; `created` lists what a real run would create.
 */
export type MountStatus = 'mounted' | 'already-mounted' | 'refused' | 'would-mount';

export interface MountOutcome {
  readonly status: MountStatus;
  readonly plan: OverlayPlan;
  readonly created: readonly CreatedDir[];
  /** The mount check's findings on the mount as it is at the end (for `would-mount`: none). */
  readonly findings: readonly Finding[];
  /** The overlay this run mounted was unmounted again because the check refused it. */
  readonly rolledBack: boolean;
}

/**
 * Errors about Nix's settings rather than the mount (Nix's own check-mount refusing a right mount, a nix.conf naming
 * another store): `--print-nix-conf` is their remedy, not another mount.
 */
const NIX_SETTINGS_FINDINGS = new Set(['mount.nix-check-mount-refuses', 'mount.nix-conf-mismatch']);

/** Findings that say the mount itself is wrong (not the layers' contents, space or Nix's settings): they make `mount` refuse. Pure. */
export function mountErrors(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === 'error' && f.id.startsWith('mount.') && !NIX_SETTINGS_FINDINGS.has(f.id));
}

/**
 * What is at the merged store dir now: an overlay (visible, or hidden under a stacked mount: either way the check
 * judges it), another mount (refused: mounting over it would hide it), or nothing. Throws MountSetupError
 * MOUNT_SETUP_MOUNTINFO when the mount table cannot be read, since deciding blind could stack a second overlay. Pure.
 */
export function existingMount(facts: MountFacts): 'overlay' | 'other' | 'none' {
  if (facts.status !== 'read') {
    throw new MountSetupError('MOUNT_SETUP_MOUNTINFO', `cannot read the mount table ${facts.mountinfoFile}: ${facts.error.message}`, {
      evidence: { mountinfoFile: facts.mountinfoFile, errno: facts.error.errno ?? null },
      hint: 'run where /proc is mounted (mountinfo names another file only for checks of saved tables)',
    });
  }
  if (facts.overlay !== undefined) return 'overlay';
  return facts.visible === undefined ? 'none' : 'other';
}

/**
 * Sets the overlay up: plans it (planOverlay), looks at what is mounted, and then leaves a right overlay alone,
 * refuses a wrong one, refuses another mount at the merged store dir (MountSetupError MOUNT_SETUP_OTHER_MOUNT), or
 * prepares the layer dirs (prepareLayerDirs), mounts (MountOverlayError MOUNT_FAILED) and runs the mount check; an
 * overlay it mounted that the check finds wrong is unmounted again. With `dryRun` nothing is created or mounted.
 * Rejects with those errors, MountSetupError from the plan and the dirs, and the abort reason of `signal`.
 */
export async function setupOverlay(config: Config, env: NixEnv, signal: AbortSignal, options: { readonly dryRun: boolean }): Promise<MountOutcome> {
  const plan = planOverlay(config);
  const before = await gatherCheckContext(config, env);
  const found = existingMount(before.mount);
  if (found === 'overlay') {
    const findings = await checkFindings(before, signal);
    return { status: mountErrors(findings).length > 0 ? 'refused' : 'already-mounted', plan, created: [], findings, rolledBack: false };
  }
  if (found === 'other') {
    const visible = before.mount.status === 'read' ? before.mount.visible : undefined;
    throw new MountSetupError(
      'MOUNT_SETUP_OTHER_MOUNT',
      `${plan.spec.mergedDir} is already a mount point of ${visible?.fsType ?? 'another filesystem'}, not the store overlay; mounting the overlay on top would hide it`,
      {
        evidence: { mergedStoreDir: plan.spec.mergedDir, mountinfo: visible?.line ?? null },
        hint: `unmount what is there first (umount ${plan.spec.mergedDir}) if it is not needed, or fix the store URL's merged store dir`,
      },
    );
  }
  const created = prepareLayerDirs(plan.spec, { dryRun: options.dryRun });
  if (options.dryRun) return { status: 'would-mount', plan, created, findings: [], rolledBack: false };
  signal.throwIfAborted();
  await mountOverlay(plan.spec, signal);
  const after = await checkFindings(await gatherCheckContext(config, env), signal);
  if (mountErrors(after).length === 0) return { status: 'mounted', plan, created, findings: after, rolledBack: false };
  await unmountPath(plan.spec.mergedDir, { lazy: false });
  return { status: 'refused', plan, created, findings: after, rolledBack: true };
}

async function checkFindings(context: CheckContext, signal: AbortSignal): Promise<readonly Finding[]> {
  return (await runChecks(enabledChecks(context.config.checks.disable), context, signal)).findings;
}
