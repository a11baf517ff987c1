/** Every check of `overlay-warden check`, in the order they run and are reported: the mount first, then the layers. */
import type { Check } from './check.ts';
import { lowerLayerFilesCheck } from './lower-layer-files.ts';
import { lowerLayerOptionCheck } from './lower-layer-option.ts';
import { mergedMountCheck } from './merged-mount.ts';
import { mountOptionsCheck } from './mount-options.ts';
import { mountSummaryCheck } from './mount-summary.ts';
import { nixCheckMountCheck } from './nix-check-mount-verdict.ts';
import { nixConfAgreementCheck } from './nix-conf-agreement.ts';
import { upperDbCheck } from './upper-db.ts';
import { upperLayerFilesCheck } from './upper-layer-files.ts';
import { upperLayerOptionCheck } from './upper-layer-option.ts';

/** The mount and layer checks, in a stable order (ids are the labels of the per-check metrics). */
export const MOUNT_CHECKS: readonly Check[] = Object.freeze([
  mergedMountCheck,
  lowerLayerOptionCheck,
  upperLayerOptionCheck,
  mountOptionsCheck,
  nixCheckMountCheck,
  nixConfAgreementCheck,
  mountSummaryCheck,
  lowerLayerFilesCheck,
  upperLayerFilesCheck,
  upperDbCheck,
]);

/** The checks of `checks` (default MOUNT_CHECKS) whose ids `disabled` (the configuration's `checks.disable`) does not list. Pure. */
export function enabledChecks(disabled: readonly string[], checks: readonly Check[] = MOUNT_CHECKS): readonly Check[] {
  return checks.filter((c) => !disabled.includes(c.id));
}
