/**
 * Containers of a pod, set up the way runc sets up a Kubernetes container's mounts, reduced to what the store
 * sidecar scenario needs: a private mount namespace per container, its root the rootfs of a buildah working container,
 * volumes bound in with the propagation Kubernetes gives them, the capabilities Docker gives plus any added, and the
 * host's network (a pod's containers share one; 127.0.0.1 reaches the sidecar).
 *
 * Why not `buildah run`: with chroot isolation (the only one that works here) buildah makes every mount of the
 * container private and ignores `:rshared`/`:rslave` on -v, so a mount the sidecar makes never reaches the workload;
 * `podman run` and `buildah run --isolation oci` cannot start containers in this sandbox at all. The mount namespace
 * semantics below are the kernel's own; only the runtime that sets them up is a shell script.
 */
import { requireCommand } from './requirements.ts';

/** Kubernetes' mountPropagation values and the propagation runc applies for each. */
export const PROPAGATION = { None: 'rprivate', HostToContainer: 'rslave', Bidirectional: 'rshared' } as const;
export type MountPropagation = keyof typeof PROPAGATION;

export interface Volume {
  /** The directory on the host (in the pod's mount namespace). */
  readonly host: string;
  /** Where the container sees it. */
  readonly path: string;
  readonly propagation: MountPropagation;
  readonly readOnly?: boolean;
}

export interface ContainerSpec {
  /** The container's root: a buildah working container's mount point. */
  readonly rootfs: string;
  readonly volumes: readonly Volume[];
  /** Capabilities beyond Docker's defaults, as setpriv names them (`sys_admin`). */
  readonly addCaps?: readonly string[];
  /** The environment (`NAME=value`), as an image's Env gives it. */
  readonly env: readonly string[];
  readonly workingDir: string;
  readonly argv: readonly string[];
}

/** Docker's (and containerd's) default capability set. */
export const DEFAULT_CAPS = [
  'chown',
  'dac_override',
  'fsetid',
  'fowner',
  'mknod',
  'net_raw',
  'setgid',
  'setuid',
  'setfcap',
  'setpcap',
  'net_bind_service',
  'sys_chroot',
  'kill',
  'audit_write',
] as const;

/**
 * The runtime, POSIX sh, run by root in the container's fresh mount namespace (a copy of the pod's, propagation
 * unchanged). `$1` the root propagation, `$2` the rootfs, then one `HOST|PATH|PROPAGATION|ro-or-rw` per volume up to
 * `--`, then the process's argv. As runc: the root's propagation first (rslave by default; containerd makes it
 * rshared when any mount is Bidirectional, or the sidecar's mounts could never leave its namespace), then each volume
 * bound recursively and given its propagation, then /proc, /dev and /sys, then the process chrooted.
 */
const RUNTIME = `set -eu
mount --make-"$1" /
root=$2
shift 2
while [ "$1" != -- ]; do
  spec=$1
  host=\${spec%%|*}; spec=\${spec#*|}
  ctr=\${spec%%|*}; spec=\${spec#*|}
  prop=\${spec%%|*}; mode=\${spec#*|}
  mkdir -p "$root$ctr"
  mount --rbind "$host" "$root$ctr"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$ctr"; fi
  mount --make-"$prop" "$root$ctr"
  shift
done
shift
mkdir -p "$root/proc" "$root/dev" "$root/sys"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" && mount -o remount,bind,ro "$root/sys"
exec "$@"
`;

/** Requires the tools the runtime uses (util-linux's unshare, setpriv and mount; coreutils' chroot and env). */
export function requirePodSandbox(ctx: Mocha.Context): void {
  for (const command of ['unshare', 'setpriv', 'chroot', 'mount']) requireCommand(ctx, command);
}

/**
 * The argv that runs the container `spec` (to be run inside the pod's mount namespace, e.g. behind its nsenter
 * prefix): its own mount namespace, its volumes, its capabilities (bounding set; root keeps only those), chrooted
 * into its rootfs with exactly the image's environment. The process is the last exec of the chain, so its pid is the
 * spawned child's: `nsenter --target PID --mount --root --wd` enters the container (as `podman exec` would).
 */
export function containerArgv(spec: ContainerSpec): string[] {
  const bidirectional = spec.volumes.some((v) => v.propagation === 'Bidirectional');
  const volumes = spec.volumes.map((v) => {
    for (const part of [v.host, v.path]) if (part.includes('|')) throw new Error(`a volume path may not contain "|": ${part}`);
    return `${v.host}|${v.path}|${PROPAGATION[v.propagation]}|${v.readOnly === true ? 'ro' : 'rw'}`;
  });
  const caps = [...DEFAULT_CAPS, ...(spec.addCaps ?? [])].map((c) => `+${c}`).join(',');
  return [
    'unshare',
    '--mount',
    '--propagation',
    'unchanged',
    '--',
    'sh',
    '-c',
    RUNTIME,
    'runtime',
    bidirectional ? 'rshared' : 'rslave',
    spec.rootfs,
    ...volumes,
    '--',
    'setpriv',
    '--inh-caps=-all',
    `--bounding-set=-all,${caps}`,
    '--',
    'chroot',
    spec.rootfs,
    '/usr/bin/env',
    '-i',
    '-C',
    spec.workingDir,
    ...spec.env,
    ...spec.argv,
  ];
}

/** The argv prefix that runs a command inside the running container whose process is `pid` (its mounts, root and cwd). */
export function execInContainer(pid: number): string[] {
  return ['nsenter', `--target=${pid}`, '--mount', '--root', '--wd'];
}
