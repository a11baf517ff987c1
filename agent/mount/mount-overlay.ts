/** Builds OverlayFS mount options for a store (pure) and mounts them with `mount(8)` (I/O, used by the demo and `mount`). */
import { WardenError } from '../errors/index.ts';
import { escapeOverlayPath, formatLowerdir } from './lowerdir-syntax.ts';

export interface OverlaySpec {
  /** Lower layers, top first; the lower store's real store dir is normally the only one. */
  readonly lowerDirs: readonly string[];
  readonly upperDir: string;
  readonly workDir: string;
  readonly mergedDir: string;
  readonly readOnly?: boolean;
  /** Extra options passed through (e.g. `xino=off`). */
  readonly extraOptions?: readonly string[];
}

/**
 * util-linux 2.39 and later mount and remount through the new mount API, whose overlay handling differs by version
 * (util-linux issues 2528, 2576); the classic mount(2) call behaves the same everywhere. hooks/remount sets it too.
 */
export const MOUNT_ENV: Readonly<Record<string, string>> = Object.freeze({ LIBMOUNT_FORCE_MOUNT2: 'always' });

export type MountOverlayErrorCode = 'MOUNT_OPTIONS_TOO_LONG' | 'MOUNT_FAILED';
export class MountOverlayError extends WardenError<MountOverlayErrorCode> {}

/** The kernel's limit for the whole option string: one page. */
export const MOUNT_OPTIONS_MAX = 4096;

/**
 * The `-o` string for `mount -t overlay`. Throws MountOverlayError
 * MOUNT_OPTIONS_TOO_LONG when it would not fit in one page (the kernel would
 * refuse it with a bare EINVAL).
 */
export function overlayMountOptions(spec: OverlaySpec): string {
  const options = [
    ...(spec.readOnly === true ? ['ro'] : []),
    `lowerdir=${formatLowerdir(spec.lowerDirs.map((path) => ({ path, dataOnly: false })))}`,
    `upperdir=${escapeOverlayPath(spec.upperDir)}`,
    `workdir=${escapeOverlayPath(spec.workDir)}`,
    ...(spec.extraOptions ?? []),
  ].join(',');
  if (Buffer.byteLength(options) >= MOUNT_OPTIONS_MAX) {
    throw new MountOverlayError(
      'MOUNT_OPTIONS_TOO_LONG',
      `overlay mount options are ${Buffer.byteLength(options)} bytes; the kernel takes at most ${MOUNT_OPTIONS_MAX - 1}`,
      {
        evidence: { options },
        hint: 'use shorter layer paths (e.g. bind-mount them under a short directory) or fewer lower layers',
      },
    );
  }
  return options;
}

/**
 * Mounts the overlay described by `spec` at `spec.mergedDir` by running
 * `mount -t overlay overlay -o OPTIONS MERGED` (with MOUNT_ENV). Requires CAP_SYS_ADMIN in the
 * current mount namespace (root, or a user namespace of one's own). Throws
 * MountOverlayError MOUNT_FAILED with mount's stderr and exit code.
 */
export async function mountOverlay(spec: OverlaySpec, signal?: AbortSignal): Promise<void> {
  const options = overlayMountOptions(spec);
  // execa (about 150 modules) loads when a mount command runs, not with every module that imports the mount part.
  const { execa } = await import('execa');
  const result = await execa('mount', ['-t', 'overlay', 'overlay', '-o', options, spec.mergedDir], {
    reject: false,
    timeout: 30_000,
    env: MOUNT_ENV,
    ...(signal === undefined ? {} : { cancelSignal: signal }),
  });
  if (result.failed) {
    throw new MountOverlayError('MOUNT_FAILED', `mounting the overlay at ${spec.mergedDir} failed: ${result.stderr.trim() || result.shortMessage}`, {
      evidence: { options, exitCode: result.exitCode, stderr: result.stderr },
      hint: 'check that every layer dir exists, that workdir and upperdir are on one filesystem, and that you may mount here (root or a private user namespace)',
    });
  }
}
