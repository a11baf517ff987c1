/** Bind-mounts a directory with `mount(8)`, optionally read-only (I/O, used by the demo to make its lower store read-only). */
import { WardenError } from '../errors/index.ts';

export type BindMountErrorCode = 'BIND_MOUNT_FAILED';
export class BindMountError extends WardenError<BindMountErrorCode> {}

/**
 * Bind-mounts `source` at `target` (`mount --bind`); with `readOnly`, then makes that bind read-only
 * (`mount -o remount,bind,ro`), which affects only this mount, not `source` or other binds of it. `source` may be
 * `target` itself, making a directory its own read-only mount point. Requires CAP_SYS_ADMIN in the current mount
 * namespace. Throws BindMountError BIND_MOUNT_FAILED with mount's stderr and exit code (evidence: step, source, target).
 */
export async function bindMount(source: string, target: string, options: { readonly readOnly?: boolean; readonly signal?: AbortSignal } = {}): Promise<void> {
  await runMount(['--bind', source, target], 'bind', source, target, options.signal);
  if (options.readOnly === true) await runMount(['-o', 'remount,bind,ro', target], 'remount read-only', source, target, options.signal);
}

async function runMount(args: readonly string[], step: string, source: string, target: string, signal: AbortSignal | undefined): Promise<void> {
  // execa (about 150 modules) loads when a mount command runs, not with every module that imports the mount part.
  const { execa } = await import('execa');
  const result = await execa('mount', args, { reject: false, timeout: 30_000, ...(signal === undefined ? {} : { cancelSignal: signal }) });
  if (result.failed) {
    throw new BindMountError('BIND_MOUNT_FAILED', `bind-mounting ${source} at ${target} failed (${step}): ${result.stderr.trim() || result.shortMessage}`, {
      evidence: { step, source, target, args, exitCode: result.exitCode, stderr: result.stderr },
      hint: 'check that both directories exist and that you may mount here (root or a private user namespace)',
    });
  }
}
