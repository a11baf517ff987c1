/** The check after the agent's remounts: the mount check, then the stale-view probe on the paths the requests name. */
import type { CheckReport } from '../checks/index.ts';
import type { Config } from '../config/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import { probeLayoutOf, probeStaleView, type ProbeResult } from '../probe/index.ts';
import { mountCheckVerifier } from './mount-check-verifier.ts';
import type { RemountVerifier } from './remount-events.ts';
import type { RemountRequest } from './remount-request.ts';

export interface StaleViewVerifierOptions {
  /** The store paths to probe for the requests a remount answered (the agent's policy: `decide/`). */
  readonly probePaths: (requests: readonly RemountRequest[]) => readonly string[];
  /** Gets the mount check's report as soon as it is made. */
  readonly onReport?: (report: CheckReport) => void;
}

/**
 * Fresh when the mount check finds no error and the probe finds none of the paths stale: a remount that left the
 * mount right but the view stale did not do its job. Each stale path becomes a `remount.still-stale` finding after
 * the check's own. Rejects only when the signal aborts.
 */
export function staleViewVerifier(config: Config, env: Readonly<Record<string, string | undefined>>, options: StaleViewVerifierOptions): RemountVerifier {
  const checkMount = mountCheckVerifier(config, env, options.onReport);
  const layout = probeLayoutOf(config.layout);
  return async (requests, signal) => {
    const check = await checkMount(requests, signal);
    const probe = await probeStaleView(layout, options.probePaths(requests), { signal });
    const stale = probe.stale.map(stillStaleFinding);
    return { fresh: check.fresh && stale.length === 0, findings: [...check.findings, ...stale] };
  };
}

/** The finding for a path the probe still sees stale after a remount. */
function stillStaleFinding(result: ProbeResult): Finding {
  return finding('remount.still-stale', 'error', `still stale after the remount: ${result.name}`, { verdict: result.verdict });
}
