/** Runs a command in a private mount namespace (and, without root, a user namespace), so its mounts never leak. */
import { WardenError } from '../errors/index.ts';

export type MountNamespaceErrorCode = 'NAMESPACE_UNAVAILABLE';
export class MountNamespaceError extends WardenError<MountNamespaceErrorCode> {}

/**
 * The `unshare(1)` argv prefix for a private mount namespace. As root, a mount
 * namespace alone; otherwise also a user namespace mapping the caller to root,
 * where Linux ≥ 5.11 lets OverlayFS be mounted without privileges. Propagation
 * is private so nothing mounted inside reaches the host. Pure.
 */
export function unshareArgv(isRoot: boolean): string[] {
  return isRoot
    ? ['unshare', '--mount', '--propagation', 'private', '--']
    : ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', '--'];
}

/**
 * Runs `argv` inside a private mount namespace and resolves to its exit code.
 * A probe (`unshare … true`) runs first so that a namespace the kernel
 * refuses is told apart from the command failing: rejects with
 * MountNamespaceError NAMESPACE_UNAVAILABLE when unshare is missing or the
 * namespace is refused (e.g. unprivileged user namespaces disabled).
 */
export async function runInPrivateMountNamespace(
  argv: readonly string[],
  options: { stdio?: 'inherit' | 'pipe'; env?: Record<string, string | undefined>; signal?: AbortSignal; isRoot?: boolean } = {},
): Promise<number> {
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  const [file, ...prefix] = unshareArgv(isRoot);
  // execa (about 150 modules) loads when a mount command runs, not with every module that imports the mount part.
  const { execa } = await import('execa');
  const probe = await execa(file!, [...prefix, 'true'], { reject: false, timeout: 10_000 });
  if (probe.exitCode !== 0) {
    throw new MountNamespaceError(
      'NAMESPACE_UNAVAILABLE',
      `cannot create a private mount namespace${isRoot ? '' : ' in a user namespace'}: ${probe.stderr.trim() || probe.shortMessage}`,
      {
        cause: probe.cause,
        evidence: { isRoot, exitCode: probe.exitCode, stderr: probe.stderr },
        hint: isRoot
          ? 'install util-linux (unshare)'
          : 'run as root, or enable unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone=1)',
      },
    );
  }
  const result = await execa(file!, [...prefix, ...argv], {
    stdio: options.stdio ?? 'inherit',
    reject: false,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    forceKillAfterDelay: 5000,
  });
  return result.exitCode ?? 1;
}
