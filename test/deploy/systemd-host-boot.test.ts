/**
 * deploy/systemd on a plain host, booted for real: the shared Debian root under systemd-nspawn, with a lower store
 * built with real Nix bound read-only. The mount unit mounts the overlay before nix-daemon starts (a test-only
 * stand-in records what it found at /nix/store); the agent becomes ready; then the agent is frozen (SIGSTOP), its
 * watchdog pings stop, and systemd kills and restarts it, ready again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtAgentDir } from '../support/built-dist.ts';
import { requireDebianRootfs, unpackDebianRootfs } from '../support/debian-rootfs.ts';
import { nixEnv, runNix } from '../support/nix-kit.ts';
import { bootMachine, enableUnits, installFromProject, writeInRoot, systemctlProperties } from '../support/nspawn-machine.ts';
import { requireCommand, requireMountNamespaces, requireNix } from '../support/requirements.ts';

const BOOT_TIMEOUT_MS = 120_000;

/** TEST-ONLY: nix-daemon (Debian's nix-bin has no unit) reduced to what the test asks of it: what /nix/store is when it starts. */
const NIX_DAEMON_STAND_IN = `# TEST-ONLY stand-in for nix-daemon.service: records the file system at /nix/store when it starts.
[Unit]
Description=TEST-ONLY stand-in for nix-daemon

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'findmnt -n -o FSTYPE /nix/store > /srv/overlay/results/nix-daemon-saw.txt || echo none > /srv/overlay/results/nix-daemon-saw.txt'

[Install]
WantedBy=multi-user.target
`;

/** TEST-ONLY: a watchdog of seconds, so that the test sees systemd act on a hung agent in seconds, not minutes. */
const FAST_WATCHDOG = `# TEST-ONLY: the shipped WatchdogSec=60s shortened for the test.
[Service]
WatchdogSec=6s
TimeoutAbortSec=2s
RestartSec=1s
`;

/** TEST-ONLY: after the agent has started, freeze it and wait for systemd to restart it; record both states. */
const DRIVER = `# TEST-ONLY: the test's script, after the agent.
[Unit]
Description=TEST-ONLY: the test's script
After=overlay-warden.service nix-daemon.service

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/bin/bash /srv/overlay/test/boot.sh

[Install]
WantedBy=multi-user.target
`;

const BOOT_SCRIPT = `out=/srv/overlay/results
show() { systemctl show -p ActiveState -p StatusText -p NRestarts -p MainPID -p WatchdogTimestampMonotonic overlay-warden.service; }
show > "$out/before.txt"
systemctl show -p ActiveState -p Result overlay-warden-mount.service > "$out/mount-unit.txt"
kill -STOP "$(systemctl show -p MainPID --value overlay-warden.service)"
for i in $(seq 1 300); do
  [ "$(systemctl show -p NRestarts --value overlay-warden.service)" -ge 1 ] && [ "$(systemctl show -p ActiveState --value overlay-warden.service)" = active ] && break
  sleep 0.2
done
show > "$out/after.txt"
journalctl -b --no-pager -o cat -u overlay-warden.service -u overlay-warden-mount.service > "$out/journal.txt"
systemctl poweroff --no-block
`;

describe('deploy: a plain host boots with deploy/systemd under systemd-nspawn', function () {
  let dir: string;

  before(async function () {
    this.timeout(300_000);
    requireDebianRootfs(this);
    requireMountNamespaces(this);
    requireNix(this);
    for (const command of ['systemd-nspawn', 'systemctl']) requireCommand(this, command);
    builtAgentDir();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-host-'));
  });

  after(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('mounts before nix-daemon, reports ready, and systemd restarts the agent when its watchdog pings stop', async function () {
    this.timeout(BOOT_TIMEOUT_MS + 60_000);
    const root = path.join(dir, 'root');
    const lower = path.join(dir, 'lower');
    const srv = path.join(dir, 'srv');
    await unpackDebianRootfs(root);
    fs.writeFileSync(path.join(dir, 'tool'), 'a lower store path\n');
    runNix('nix-store', ['--store', lower, '--add', path.join(dir, 'tool')], nixEnv());
    for (const sub of ['results', 'test']) fs.mkdirSync(path.join(srv, sub), { recursive: true });
    fs.writeFileSync(path.join(srv, 'test/boot.sh'), BOOT_SCRIPT);
    // What a Nix installation leaves, and the host's configuration as deploy/systemd/README.md says.
    for (const sub of ['nix/store', 'nix/var/nix', 'opt/overlay-warden']) fs.mkdirSync(path.join(root, sub), { recursive: true });
    writeInRoot(
      root,
      'etc/overlay-warden/overlay-warden.yaml',
      [
        'store:',
        '  url: "local-overlay://?lower-store=local%3Froot%3D%2Fsrv%2Flower%26read-only%3Dtrue&upper-layer=/srv/overlay/upper"',
        'http:',
        '  address: "off"',
        'log:',
        '  format: json',
        '',
      ].join('\n'),
    );
    installFromProject(root, 'deploy/systemd/overlay-warden.service', 'etc/systemd/system/overlay-warden.service');
    installFromProject(root, 'deploy/systemd/overlay-warden-mount.service', 'etc/systemd/system/overlay-warden-mount.service');
    writeInRoot(root, 'etc/systemd/system/overlay-warden.service.d/zz-test-watchdog.conf', FAST_WATCHDOG);
    writeInRoot(root, 'etc/systemd/system/nix-daemon.service', NIX_DAEMON_STAND_IN);
    writeInRoot(root, 'etc/systemd/system/ow-test-boot.service', DRIVER);
    await enableUnits(root, ['nix-daemon.service', 'overlay-warden-mount.service', 'overlay-warden.service', 'ow-test-boot.service']);
    // The link points into the root's /etc: look at the link itself, not at what it names on this host.
    assert.ok(
      fs.lstatSync(path.join(root, 'etc/systemd/system/nix-daemon.service.requires/overlay-warden-mount.service')).isSymbolicLink(),
      'enabling links RequiredBy=',
    );

    const boot = await bootMachine(root, {
      binds: [`--bind-ro=${lower}:/srv/lower`, `--bind=${srv}:/srv/overlay`],
      volatile: false,
      timeoutMs: BOOT_TIMEOUT_MS,
    }).done;
    const result = (file: string): string => fs.readFileSync(path.join(srv, 'results', file), 'utf8');
    const journal = (): string => (fs.existsSync(path.join(srv, 'results/journal.txt')) ? result('journal.txt') : boot.console.slice(-6000));
    assert.equal(boot.exitCode, 0, boot.console.slice(-4000));

    assert.equal(result('nix-daemon-saw.txt').trim(), 'overlay', 'nix-daemon started on the mounted overlay');
    assert.deepEqual(systemctlProperties(result('mount-unit.txt')), { ActiveState: 'active', Result: 'success' });
    const before = systemctlProperties(result('before.txt'));
    assert.equal(before['ActiveState'], 'active', journal());
    assert.equal(before['StatusText'], 'watching /nix/store: the mount is valid');
    assert.equal(before['NRestarts'], '0', `no restart before the agent was frozen:\n${journal()}`);
    assert.notEqual(before['WatchdogTimestampMonotonic'], '0');

    const after = systemctlProperties(result('after.txt'));
    assert.equal(after['NRestarts'], '1', journal());
    assert.equal(after['ActiveState'], 'active', journal());
    assert.notEqual(after['MainPID'], before['MainPID']);
    assert.equal(after['StatusText'], 'watching /nix/store: the mount is valid');
    assert.match(journal(), /Watchdog timeout/);
  });
});
