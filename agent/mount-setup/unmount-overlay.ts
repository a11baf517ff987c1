/** `overlay-warden unmount`: takes the store overlay down, but only this store's overlay, and only when it is on top. */
import { decideLowerLayers, decideMergedMount, decideUpperLayer, gatherCheckContext, type MountFacts } from '../checks/index.ts';
import type { Config } from '../config/index.ts';
import type { Finding } from '../findings/index.ts';
import type { NixEnv } from '../store/index.ts';
import { existingMount } from './setup-overlay.ts';
import { unmountPath } from './unmount-path.ts';

/**
 * - `unmounted`: the overlay was this store's and on top, and is gone;
 * - `not-mounted`: no overlay at the merged store dir (nothing to do);
 * - `refused`: what is there is not this store's overlay, or something is mounted on top of it: `findings` say what.
 */
export type UnmountStatus = 'unmounted' | 'not-mounted' | 'refused';

export interface UnmountOutcome {
  readonly status: UnmountStatus;
  readonly mergedStoreDir: string;
  readonly findings: readonly Finding[];
}

/**
 * Why the overlay at the merged store dir must not be unmounted by this configuration: the errors of the merged-mount,
 * lower-layer and upper-layer decisions (another store's overlay, or a mount stacked on it that `umount` would take
 * instead). Pure.
 */
export function unmountObjections(facts: MountFacts): Finding[] {
  return [...decideMergedMount(facts), ...decideLowerLayers(facts), ...decideUpperLayer(facts)].filter((f) => f.severity === 'error');
}

/**
 * Unmounts the configured store's overlay (`umount`, `-l` with `lazy`). Rejects with MountSetupError
 * MOUNT_SETUP_MOUNTINFO (the mount table is unreadable) or MOUNT_SETUP_UNMOUNT_FAILED (umount failed: busy, no
 * permission).
 */
export async function unmountOverlay(config: Config, env: NixEnv, options: { readonly lazy: boolean }): Promise<UnmountOutcome> {
  const { mount } = await gatherCheckContext(config, env);
  const mergedStoreDir = config.layout.mergedStoreDir;
  if (existingMount(mount) !== 'overlay') return { status: 'not-mounted', mergedStoreDir, findings: [] };
  const objections = unmountObjections(mount);
  if (objections.length > 0) return { status: 'refused', mergedStoreDir, findings: objections };
  await unmountPath(mergedStoreDir, options);
  return { status: 'unmounted', mergedStoreDir, findings: [] };
}
