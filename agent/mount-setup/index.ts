/** Setting the store overlay up and taking it down: `overlay-warden mount`, `unmount`, `run --mount`, and the nix.conf for it. */
export { planOverlay, shellQuote, MountSetupError, type MountSetupErrorCode, type OverlayPlan } from './overlay-plan.ts';
export { prepareLayerDirs, upperLayerMode, type CreatedDir } from './layer-dirs.ts';
export { setupOverlay, existingMount, mountErrors, type MountOutcome, type MountStatus } from './setup-overlay.ts';
export { unmountOverlay, unmountObjections, type UnmountOutcome, type UnmountStatus } from './unmount-overlay.ts';
export { unmountPath } from './unmount-path.ts';
export { nixConfForStore, predictNixCheckMount, LOCAL_OVERLAY_FEATURE, type NixConfForStore, type NixConfInput } from './nix-conf-lines.ts';
