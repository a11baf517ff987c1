/** A RemountVerifier from the mount check alone: fresh when it finds no error (the agent adds its stale-view probe on top). */
import { runMountCheck, type CheckReport } from '../checks/index.ts';
import type { Config } from '../config/index.ts';
import { hasErrors, type Finding } from '../findings/index.ts';
import type { RemountVerifier } from './remount-events.ts';

/**
 * Errors the check reports that say nothing of the mount: a lower daemon that does not answer leaves the overlay as
 * it is, and a remount cannot bring the daemon back, so retrying remounts for it would only end in a remount alert
 * (the daemon's own watcher and alert report it).
 */
const NOT_ABOUT_THE_MOUNT: ReadonlySet<string> = new Set(['layer.lower-daemon-unreachable']);

/** The findings that decide whether a remount left the overlay as configured (pure). */
export function mountFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => !NOT_ABOUT_THE_MOUNT.has(finding.id));
}

/**
 * Re-runs the mount and layer checks of `config` after a remount. `fresh`
 * means "no error-level finding": the overlay is mounted as configured again.
 * It cannot see a stale view by itself; `overlay-warden run` combines it with
 * the probe (`staleViewVerifier`). Used alone by `overlay-warden remount --direct`.
 * `onReport` gets each check's report as soon as it is made (the agent keeps the
 * latest for `status`). Rejects only when the signal aborts.
 */
export function mountCheckVerifier(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  onReport?: (report: CheckReport) => void,
): RemountVerifier {
  return async (_requests, signal) => {
    const report = await runMountCheck(config, env, signal);
    onReport?.(report);
    return { fresh: !hasErrors(mountFindings(report.findings)), findings: report.findings };
  };
}
