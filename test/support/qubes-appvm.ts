/**
 * A Qubes AppVM played by the shared Debian root booted under systemd-nspawn: the template's /nix bound read-only at
 * /nix, a host directory as /rw, the project bound read-only at /opt/overlay-warden, deploy/qubes installed and
 * enabled as its README says. What Qubes itself does at boot and cannot run here (its qubes-sysinit marker and the
 * bind-dirs of qubes-mount-dirs) is done by test-only stand-ins under the same unit names, labelled as such.
 * Each boot runs /rw/test/boot.sh (written by the test) once the agent's unit has started, from a test-only unit.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { inFreshNamespace } from './mount-namespace.ts';
import { unpackDebianRootfs } from './debian-rootfs.ts';
import { ROOT as PROJECT } from './built-dist.ts';
import { withSafetyNet } from './wait-for.ts';

/** TEST-ONLY: Qubes' qubes-sysinit marks the VM's kind in /run/qubes; this one says "AppVM" and nothing else. */
const SYSINIT_STAND_IN = `# TEST-ONLY stand-in for Qubes' qubes-sysinit.service (which cannot run outside Qubes): marks this VM an AppVM.
[Unit]
Description=TEST-ONLY stand-in for qubes-sysinit: /run/qubes/this-is-appvm
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'mkdir -p /run/qubes && touch /run/qubes/this-is-appvm'

[Install]
WantedBy=sysinit.target
`;

/** TEST-ONLY: Qubes' bind-dirs as far as the deployment uses it (a dir under /rw/bind-dirs bound over the original). */
const BIND_DIRS_STAND_IN = `#!/bin/bash
# TEST-ONLY stand-in for Qubes' bind-dirs (run by qubes-mount-dirs.service in a real AppVM): for each directory the
# bind-dirs configuration names, /rw/bind-dirs/DIR is made on first use (from DIR's template content) and bound over DIR.
set -eu
binds=()
for conf in /etc/qubes-bind-dirs.d/*.conf /rw/config/qubes-bind-dirs.d/*.conf; do
  if [ -f "$conf" ]; then . "$conf"; fi
done
for dir in "\${binds[@]}"; do
  persistent="/rw/bind-dirs$dir"
  if [ ! -d "$persistent" ]; then
    mkdir -p "$persistent"
    if [ -d "$dir" ]; then cp -a "$dir/." "$persistent/"; fi
  fi
  mkdir -p "$dir"
  mount --bind "$persistent" "$dir"
done
`;

const MOUNT_DIRS_STAND_IN = `# TEST-ONLY stand-in for Qubes' qubes-mount-dirs.service: /rw is bound in by systemd-nspawn; this applies bind-dirs.
[Unit]
Description=TEST-ONLY stand-in for qubes-mount-dirs: bind-dirs
After=local-fs.target qubes-sysinit.service
RequiresMountsFor=/rw

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/lib/test-bind-dirs

[Install]
WantedBy=multi-user.target
`;

/** TEST-ONLY: runs the boot's script once the agent's unit has started (Type=notify: after READY=1, or its failure). */
const BOOT_DRIVER = `# TEST-ONLY: the test's script for this boot, after the agent.
[Unit]
Description=TEST-ONLY: the test's script for this boot
After=overlay-warden.service overlay-warden-qubes-mount.service

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/bin/bash /rw/test/boot.sh
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;

export interface AppVm {
  /** The AppVM's root file system (the unpacked Debian root). */
  readonly root: string;
  /** The host directory that is the AppVM's /rw. */
  readonly rw: string;
  /** The template's root: its /nix is the AppVM's /nix. */
  readonly template: string;
}

/**
 * Unpacks the Debian root at `dir/root` and installs the AppVM's part of deploy/qubes into it as a template's
 * administrator would (units, drop-in, bind-dirs file, the agent's configuration `config`), enabled with
 * `systemctl --root`, plus the stand-ins. The template's Nix root is `dir/template`, /rw is `dir/rw`.
 */
export async function createAppVm(dir: string, config: string): Promise<AppVm> {
  const vm: AppVm = { root: path.join(dir, 'root'), rw: path.join(dir, 'rw'), template: path.join(dir, 'template') };
  await unpackDebianRootfs(vm.root);
  fs.mkdirSync(path.join(vm.rw, 'test'), { recursive: true });
  fs.mkdirSync(path.join(vm.template, 'nix'), { recursive: true });
  const at = (p: string): string => path.join(vm.root, p);
  const install = (from: string, to: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(at(to)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT, from), at(to));
    fs.chmodSync(at(to), mode);
  };
  const write = (to: string, text: string, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(at(to)), { recursive: true });
    fs.writeFileSync(at(to), text, { mode });
  };
  // What deploy/qubes/README.md tells the template's administrator to install.
  install('deploy/systemd/overlay-warden.service', 'etc/systemd/system/overlay-warden.service');
  install('deploy/qubes/overlay-warden-qubes-mount.service', 'etc/systemd/system/overlay-warden-qubes-mount.service');
  install('deploy/qubes/overlay-warden.service.d/qubes.conf', 'etc/systemd/system/overlay-warden.service.d/qubes.conf');
  install('deploy/qubes/50_overlay-warden.conf', 'etc/qubes-bind-dirs.d/50_overlay-warden.conf');
  write('etc/overlay-warden/overlay-warden.yaml', config);
  // The stand-ins and the boot driver.
  write('etc/systemd/system/qubes-sysinit.service', SYSINIT_STAND_IN);
  write('etc/systemd/system/qubes-mount-dirs.service', MOUNT_DIRS_STAND_IN);
  write('usr/local/lib/test-bind-dirs', BIND_DIRS_STAND_IN, 0o755);
  write('etc/systemd/system/ow-test-boot.service', BOOT_DRIVER);
  // The mount point the project is bound at.
  fs.mkdirSync(at('opt/overlay-warden'), { recursive: true });
  await run('systemctl', [
    `--root=${vm.root}`,
    'enable',
    'overlay-warden-qubes-mount.service',
    'overlay-warden.service',
    'qubes-sysinit.service',
    'qubes-mount-dirs.service',
    'ow-test-boot.service',
  ]);
  return vm;
}

/** What a boot left: nspawn's exit code and the console (the boot's messages and the driver's output). */
export interface BootResult {
  readonly exitCode: number | null;
  readonly console: string;
}

/** A running boot: `done` settles when the machine has powered off (or was killed after `timeoutMs`). */
export interface Boot {
  readonly done: Promise<BootResult>;
  /** The console so far (for messages when something does not come). */
  console(): string;
}

/**
 * Boots the AppVM with `systemd-nspawn --register=no --keep-unit -b` in a private mount namespace of its own (the
 * container's mounts never reach the host's table). `--volatile=overlay`: what a boot writes to the root is lost at
 * power-off, as an AppVM's root volume is reset to the template's at each boot; only /rw persists. The host's
 * network is shared. Its /nix is the template's, read
 * only; /rw is the host dir; the project is at /opt/overlay-warden (its node_modules too, where a worktree links them
 * from elsewhere). Rejects when the machine has not powered off after `timeoutMs` (it is killed then).
 */
export function bootAppVm(vm: AppVm, timeoutMs: number): Boot {
  const binds = [`--bind-ro=${path.join(vm.template, 'nix')}:/nix`, `--bind=${vm.rw}:/rw`, `--bind-ro=${PROJECT}:/opt/overlay-warden`];
  const modules = path.join(PROJECT, 'node_modules');
  if (fs.lstatSync(modules).isSymbolicLink()) {
    // A git worktree shares the main checkout's node_modules through a symlink: bind its target at the same path.
    const target = fs.realpathSync(modules);
    binds.push(`--bind-ro=${target}:${target}`);
  }
  const argv = inFreshNamespace([
    'systemd-nspawn',
    '--register=no',
    '--keep-unit',
    '--quiet',
    '--console=pipe',
    '--volatile=overlay',
    '-D',
    vm.root,
    ...binds,
    '--boot',
  ]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let console = '';
  child.stdout.on('data', (chunk: Buffer) => (console += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (console += chunk.toString()));
  const exited = new Promise<BootResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code, console }));
  });
  const done = withSafetyNet(exited, 'the AppVM to power off', { timeoutMs, describe: () => console.slice(-6000) }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { done, console: () => console };
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}
