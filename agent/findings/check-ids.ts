/** The id of every mount and layer check, in the order they run: public names, as metric labels and in `checks.disable`. */
export const CHECK_IDS = [
  'mount.merged',
  'mount.lower',
  'mount.upper',
  'mount.options',
  'mount.nix-check-mount',
  'mount.nix-conf',
  'mount.summary',
  'layer.lower',
  'layer.upper',
  'layer.upper-db',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];
