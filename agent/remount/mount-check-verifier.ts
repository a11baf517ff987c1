/** A RemountVerifier from the mount check alone: fresh when it finds no error (the agent adds its stale-view probe on top). */
import { runMountCheck, type CheckReport } from '../checks/index.ts';
import type { Config } from '../config/index.ts';
import { hasErrors } from '../findings/index.ts';
import type { RemountVerifier } from './remount-events.ts';

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
    return { fresh: !hasErrors(report.findings), findings: report.findings };
  };
}
