/** A real stale overlay for remount tests, held in a private mount namespace (test/support/mount-namespace.ts). */
import { join } from 'node:path';
import { MountNamespace } from './mount-namespace.ts';

export interface StaleOverlay {
  /** The namespace holding the mount; remount commands are entered into it with `ns.nsenter`. */
  readonly ns: MountNamespace;
  /** The mount point: "$dir/merged". */
  readonly merged: string;
  /** What the merged dir serves for `p`: `upper` while stale, `lower` once remounted. */
  served(): string;
}

/**
 * "$dir/merged" over lower "l" and upper "u", both holding `p`; `p` is read through the overlay, then its upper
 * copy is deleted directly, so the view stays stale until a remount.
 */
export async function createStaleOverlay(dir: string): Promise<StaleOverlay> {
  const setup = `
    cd "$1"; mkdir -p l u w merged
    echo lower > l/p; echo upper > u/p
    mount -t overlay overlay -o "lowerdir=$1/l,upperdir=$1/u,workdir=$1/w" "$1/merged"
    cat "$1/merged/p" > /dev/null
    rm "$1/u/p"`;
  const ns = await MountNamespace.open({ setup, args: [dir] });
  const merged = join(dir, 'merged');
  return {
    ns,
    merged,
    served: () => {
      const run = ns.inside(['cat', join(merged, 'p')], { timeout: 60_000 });
      return (run.stdout || run.stderr).trim();
    },
  };
}
