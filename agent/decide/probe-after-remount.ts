/** Which store paths the probe looks at after a remount: those the requests it answered name. Pure. */
import type { RemountRequest } from '../remount/index.ts';

/** The most paths of one lower growth the probe looks at: a sample tells whether the view is fresh, all of them is slow. */
const MAX_PROBED_PER_GROWTH = 100;

/**
 * The store paths to probe once a remount answered `requests`, in request order: the path a watcher or a probe
 * flagged, the first MAX_PROBED_PER_GROWTH of a lower growth; none for Nix's hook or a manual request, which name
 * no path (the mount check alone judges those). Duplicates are left in; the probe looks at each name once.
 */
export function probePathsAfterRemount(requests: readonly RemountRequest[]): string[] {
  return requests.flatMap((request): readonly string[] => {
    switch (request.source) {
      case 'watcher':
        return [request.storePath];
      case 'probe':
        return [request.path];
      case 'lower-grew':
        return request.paths.slice(0, MAX_PROBED_PER_GROWTH);
      case 'nix-hook':
      case 'manual':
        return [];
    }
  });
}
