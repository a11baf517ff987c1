/**
 * Every finding id overlay-warden can report. These are a public contract: alert
 * rules and scripts key on them, so renaming one is a breaking change. Add new
 * ids; never reuse or rename.
 */
export const FINDING_IDS = [
  // The check runner itself: a check that threw.
  'check.failed',
  // Mount check (issue 3).
  'mount.ok',
  'mount.not-mounted',
  'mount.not-overlay',
  'mount.stacked',
  'mount.lower-missing',
  'mount.lower-not-first',
  'mount.extra-lower-layers',
  'mount.upper-mismatch',
  'mount.workdir-other-fs',
  'mount.read-only',
  'mount.option-volatile',
  'mount.option-metacopy',
  'mount.option-index',
  'mount.option-redirect-dir',
  'mount.option-userxattr',
  'mount.nix-conf-mismatch',
  'mount.mountinfo-unreadable',
  'mount.mountinfo-malformed',
  'mount.options-unreadable',
  'mount.lower-data-only',
  'mount.relative-layer-paths',
  'mount.not-read-only',
  'mount.nix-check-mount-refuses',
  // Faults the agent must report (issue 10).
  'mount.mountinfo-crlf',
  // Layer checks (issue 3).
  'layer.lower-store-missing',
  'layer.lower-db-missing',
  'layer.lower-writable',
  'layer.lower-read-only',
  'layer.upper-missing',
  'layer.upper-not-directory',
  'layer.upper-not-writable',
  'layer.upper-no-xattr',
  'layer.upper-no-d-type',
  'layer.upper-low-space',
  'layer.upper-low-inodes',
  'layer.upper-db-absent',
  'layer.upper-db-unreadable',
  'layer.upper-db-schema',
  // Store audit and verification (issue 4).
  'store.dangling',
  'store.broken-closure',
  'store.duplicate',
  'store.masked',
  'store.stray',
  'store.diverged',
  'store.corrupt',
  // The agent's check after a remount (issue 9).
  'remount.still-stale',
  // A check run by a user other than root, which could not judge what only root can (issue 11).
  'check.unprivileged',
  // Nix DBs that are not what they should be (issue 10).
  'layer.upper-db-corrupt',
  'layer.lower-db-invalid',
  'store.db-corrupt',
  // Store repairs (issue 14): an upper copy dedupe set aside and was stopped before deleting.
  'store.dedupe-leftover',
  // A lower store served by a nix-daemon (issue 15): whether its daemon answers.
  'layer.lower-daemon',
  'layer.lower-daemon-unreachable',
  // A daemon lower store that refused ops the audit needs (issue 15): which findings were not computed, and why.
  'store.lower-metadata-partial',
] as const;

export type FindingId = (typeof FINDING_IDS)[number];
