/**
 * The one Debian root file system the deployment tests share: the base image of the container tests and the
 * machine the systemd tests boot under systemd-nspawn. No image registry is reachable here, so it is made from
 * Debian's packages with mmdebstrap (about 50 s), once per machine and package set: kept as a tarball under
 * /var/cache, keyed by what went into it, so later test files and later runs take it as it is.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { requireCommand, requireRoot } from './requirements.ts';
import { runCommand } from './run-command.ts';

/**
 * What the root holds beyond `minbase`: systemd and dbus (booted by nspawn), Nix (the AppVM adds paths with it) and a
 * static busybox (fixture derivations). The container tests use the same root, so there is one build, not two.
 */
export const ROOTFS_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'nix-bin', 'busybox-static', 'ca-certificates'] as const;
export const ROOTFS_SUITE = 'bookworm';

/** Where built roots are kept between test files and runs. */
export const ROOTFS_CACHE_DIR = '/var/cache/overlay-warden-tests';

let building: Promise<string> | undefined;

/** The tarball's path for this suite and package set (it may not exist yet). */
export function debianRootfsTarPath(): string {
  const key = crypto
    .createHash('sha256')
    .update(`${ROOTFS_SUITE}\0${ROOTFS_PACKAGES.join(',')}`)
    .digest('hex')
    .slice(0, 16);
  return path.join(ROOTFS_CACHE_DIR, `debian-${ROOTFS_SUITE}-${key}.tar`);
}

/** Requires what building the root needs: root and mmdebstrap. */
export function requireDebianRootfs(ctx: Mocha.Context): void {
  requireRoot(ctx);
  requireCommand(ctx, 'mmdebstrap');
}

/**
 * The tarball of the shared Debian root, built on first call (concurrent callers, in this process or others, share
 * one build: it is made under an exclusive flock and renamed into place whole). Rejects with mmdebstrap's output
 * when the build fails.
 */
export function debianRootfsTar(): Promise<string> {
  building ??= build();
  return building;
}

/**
 * Starts building the root in the background when it is not cached yet and this process may build it, so it is ready
 * by the time the deployment tests reach it; a failure surfaces when a test awaits `debianRootfsTar`.
 */
export function prefetchDebianRootfs(): void {
  if (process.getuid?.() !== 0) return;
  if (spawnSync('sh', ['-c', 'command -v mmdebstrap'], { stdio: 'ignore' }).status !== 0) return;
  debianRootfsTar().catch(() => {
    // Awaited again by the tests that need it, which report the failure.
  });
}

/** Unpacks the shared root into `dir` (made if missing), for a test of its own to change and boot. */
export async function unpackDebianRootfs(dir: string): Promise<void> {
  const tar = await debianRootfsTar();
  fs.mkdirSync(dir, { recursive: true });
  await runCommand('tar', ['-xpf', tar, '-C', dir, '--numeric-owner']);
}

async function build(): Promise<string> {
  const tar = debianRootfsTarPath();
  if (fs.existsSync(tar)) return tar;
  fs.mkdirSync(ROOTFS_CACHE_DIR, { recursive: true, mode: 0o755 });
  // mmdebstrap picks its output format from the name: the partial file must end in .tar as well.
  const partial = path.join(ROOTFS_CACHE_DIR, `.partial-${process.pid}-${path.basename(tar)}`);
  const script = [
    'set -eu',
    // Another process may have built it while this one waited for the lock.
    '[ -e "$1" ] && exit 0',
    `mmdebstrap --quiet --format=tar --variant=minbase --include=${ROOTFS_PACKAGES.join(',')} ${ROOTFS_SUITE} "$2"`,
    'mv "$2" "$1"',
  ].join('\n');
  try {
    await runCommand('flock', [`${tar}.lock`, 'sh', '-c', script, 'sh', tar, partial]);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return tar;
}
