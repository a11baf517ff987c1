/**
 * A Qubes AppVM played by the shared Debian root booted under systemd-nspawn: the template's /nix bound read-only at
 * /nix, a host directory as /rw, the project bound read-only at /opt/overlay-warden, deploy/qubes installed and
 * enabled as its README says. What Qubes itself does at boot and cannot run here (its qubes-sysinit marker and the
 * bind-dirs of qubes-mount-dirs) is done by test-only stand-ins under the same unit names, labelled as such.
 * Each boot runs /rw/test/boot.sh (written by the test) once the agent's unit has started, from a test-only unit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { unpackDebianRootfs } from './debian-rootfs.ts';
import { bootMachine, enableUnits, installFromProject, writeInRoot, type Boot } from './nspawn-machine.ts';

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
  const install = (from: string, to: string): void => installFromProject(vm.root, from, to);
  const write = (to: string, text: string, mode = 0o644): void => writeInRoot(vm.root, to, text, mode);
  // What deploy/qubes/README.md tells the template's administrator to install.
  install('deploy/systemd/overlay-warden.service', 'etc/systemd/system/overlay-warden.service');
  install('deploy/qubes/overlay-warden-qubes-mount.service', 'etc/systemd/system/overlay-warden-qubes-mount.service');
  install('deploy/qubes/overlay-warden.service.d/qubes.conf', 'etc/systemd/system/overlay-warden.service.d/qubes.conf');
  install('deploy/qubes/overlay-warden-qubes-pivot.path', 'etc/systemd/system/overlay-warden-qubes-pivot.path');
  install('deploy/qubes/overlay-warden-qubes-pivot.service', 'etc/systemd/system/overlay-warden-qubes-pivot.service');
  install('deploy/qubes/50_overlay-warden.conf', 'etc/qubes-bind-dirs.d/50_overlay-warden.conf');
  write('etc/overlay-warden/overlay-warden.yaml', config);
  // The stand-ins and the boot driver.
  write('etc/systemd/system/qubes-sysinit.service', SYSINIT_STAND_IN);
  write('etc/systemd/system/qubes-mount-dirs.service', MOUNT_DIRS_STAND_IN);
  write('usr/local/lib/test-bind-dirs', BIND_DIRS_STAND_IN, 0o755);
  write('etc/systemd/system/ow-test-boot.service', BOOT_DRIVER);
  // The mount point the project is bound at.
  fs.mkdirSync(path.join(vm.root, 'opt/overlay-warden'), { recursive: true });
  await enableUnits(vm.root, [
    'overlay-warden-qubes-mount.service',
    'overlay-warden.service',
    'overlay-warden-qubes-pivot.path',
    'qubes-sysinit.service',
    'qubes-mount-dirs.service',
    'ow-test-boot.service',
  ]);
  return vm;
}

/**
 * Boots the AppVM (nspawn-machine.ts) until it powers itself off: its /nix is the template's, read-only; /rw is the
 * host dir. `--volatile=overlay`: what a boot writes to the root is lost at power-off, as an AppVM's root volume is
 * reset to the template's at each boot; only /rw persists.
 */
export function bootAppVm(vm: AppVm, timeoutMs: number): Boot {
  return bootMachine(vm.root, { binds: [`--bind-ro=${path.join(vm.template, 'nix')}:/nix`, `--bind=${vm.rw}:/rw`], volatile: true, timeoutMs });
}
