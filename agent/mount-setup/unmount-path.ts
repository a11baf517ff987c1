/** `umount` of one mount point, the I/O under `overlay-warden unmount` and the roll-back of a refused mount. */
import { MountSetupError } from './overlay-plan.ts';

/**
 * Unmounts the top mount at `mountPoint` with `umount` (`-l` when `lazy`: detached now, freed when no longer
 * busy). Throws MountSetupError MOUNT_SETUP_UNMOUNT_FAILED with umount's stderr; a busy store gets a hint naming
 * what usually holds it.
 */
export async function unmountPath(mountPoint: string, options: { readonly lazy: boolean }): Promise<void> {
  // execa loads when a command runs, not with every module that imports this part.
  const { execa } = await import('execa');
  const args = [...(options.lazy ? ['-l'] : []), mountPoint];
  const result = await execa('umount', args, { reject: false, timeout: 60_000 });
  if (!result.failed) return;
  const stderr = result.stderr.trim();
  const busy = /busy/i.test(stderr);
  throw new MountSetupError('MOUNT_SETUP_UNMOUNT_FAILED', `unmounting ${mountPoint} failed: ${stderr || result.shortMessage}`, {
    evidence: { mountPoint, argv: ['umount', ...args], exitCode: result.exitCode ?? null, stderr },
    hint: busy
      ? 'something still uses the store: stop nix-daemon and the programs running from the store (fuser -vm shows them), or unmount --lazy'
      : 'run as root, in the mount namespace that holds the store',
  });
}
