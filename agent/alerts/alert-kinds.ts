/** Every alert kind the agent raises: its stable name, severity, hint, README runbook anchor and what clears it. */

/** The alert names, as a public list (Alertmanager routes and silences key on these; never rename one). */
export const ALERT_NAMES = [
  'OverlayWardenLowerStoreDrifted',
  'OverlayWardenUpperClosuresBroken',
  'OverlayWardenMountInvalid',
  'OverlayWardenStaleViewNotRepaired',
  'OverlayWardenRemountFailing',
  'OverlayWardenUpperLayerLow',
  'OverlayWardenStoreCorrupt',
  'OverlayWardenWatcherFailing',
  'OverlayWardenSinkFailing',
  'OverlayWardenLowerDaemonUnavailable',
] as const;

export type AlertName = (typeof ALERT_NAMES)[number];

export type AlertSeverity = 'critical' | 'warning';

/** What a kind says besides its condition's own summary and evidence. */
export interface AlertKind {
  readonly name: AlertName;
  readonly severity: AlertSeverity;
  /** The anchor of its runbook section in README.md (`#alert-…`). */
  readonly runbook: string;
  /** What the operator can do. */
  readonly hint: string;
  /** What resolves it, as the README says. */
  readonly clearedBy: string;
}

const kind = (name: AlertName, severity: AlertSeverity, runbook: string, hint: string, clearedBy: string): AlertKind =>
  Object.freeze({ name, severity, runbook: `#alert-${runbook}`, hint, clearedBy });

/** The kinds by name. */
export const ALERT_KINDS: Readonly<Record<AlertName, AlertKind>> = Object.freeze({
  OverlayWardenLowerStoreDrifted: kind(
    'OverlayWardenLowerStoreDrifted',
    'warning',
    'lower-store-drifted',
    'check that the lower store changed on purpose (a template update, a GC), then run `overlay-warden baseline --accept`',
    'the operator runs `overlay-warden baseline --accept`, or alerts.driftHoldSeconds pass without new drift',
  ),
  OverlayWardenUpperClosuresBroken: kind(
    'OverlayWardenUpperClosuresBroken',
    'critical',
    'upper-closures-broken',
    'restore the vanished lower paths, or rebuild the upper paths that reference them (`overlay-warden audit` lists them); next time run `overlay-warden pivot` before the lower GC or update',
    'an audit that finds no broken closure, or `overlay-warden baseline --accept`',
  ),
  OverlayWardenMountInvalid: kind(
    'OverlayWardenMountInvalid',
    'critical',
    'mount-invalid',
    'run `overlay-warden check` for each finding and its fix',
    'a mount check without error findings',
  ),
  OverlayWardenStaleViewNotRepaired: kind(
    'OverlayWardenStaleViewNotRepaired',
    'critical',
    'stale-view-not-repaired',
    'the merged view still serves stale entries after a remount: `overlay-warden status`, then remount by hand (`overlay-warden remount`)',
    'a remount whose check afterwards finds the view fresh',
  ),
  OverlayWardenRemountFailing: kind(
    'OverlayWardenRemountFailing',
    'critical',
    'remount-failing',
    'read the remount command output in the agent log; fix remount.command, then `overlay-warden remount`',
    'a successful remount',
  ),
  OverlayWardenUpperLayerLow: kind(
    'OverlayWardenUpperLayerLow',
    'warning',
    'upper-layer-low',
    'free space or inodes on the upper layer: nix-collect-garbage, remove duplicates of lower paths, or a larger filesystem',
    'a mount check that finds enough free space and inodes',
  ),
  OverlayWardenStoreCorrupt: kind(
    'OverlayWardenStoreCorrupt',
    'critical',
    'store-corrupt',
    'repair the paths listed (`nix-store --repair-path`), or delete and rebuild them',
    'the next scrub or audit of the same kind that finds no corruption',
  ),
  OverlayWardenWatcherFailing: kind(
    'OverlayWardenWatcherFailing',
    'warning',
    'watcher-failing',
    'changes under its target go unseen: check that the directory or file exists again (the watcher resumes by itself)',
    'the watcher sees its target again',
  ),
  OverlayWardenSinkFailing: kind(
    'OverlayWardenSinkFailing',
    'warning',
    'sink-failing',
    'check that the receiver is up and reachable from the agent; deliveries are retried with backoff meanwhile',
    'a delivery to that sink succeeds',
  ),
  OverlayWardenLowerDaemonUnavailable: kind(
    'OverlayWardenLowerDaemonUnavailable',
    'critical',
    'lower-daemon-unavailable',
    'start the nix-daemon serving the lower store or fix its socket (`overlay-warden status` shows the error); the agent reconnects with backoff and reports what changed meanwhile',
    'the daemon answers again',
  ),
});
