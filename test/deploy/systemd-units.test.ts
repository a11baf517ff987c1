/**
 * The systemd units of deploy/systemd and deploy/qubes: `systemd-analyze verify` accepts each one installed in the
 * shared Debian root (bookworm's systemd 252, the units' executables present), and each has the properties the
 * deployment relies on, read from the unit files themselves.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireDebianRootfs, unpackDebianRootfs } from '../support/debian-rootfs.ts';
import { requireCommand } from '../support/requirements.ts';
import { ROOT } from '../support/built-dist.ts';

const SYSTEMD = path.join(ROOT, 'deploy/systemd');
const QUBES = path.join(ROOT, 'deploy/qubes');

/** One unit file's settings: section → key → every value given (a key may repeat). */
type UnitFile = Record<string, Record<string, string[]>>;

function readUnit(file: string): UnitFile {
  const unit: UnitFile = {};
  let section = '';
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = header[1]!;
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0 && section !== '', `${file}: not KEY=VALUE in a section: ${line}`);
    ((unit[section]![line.slice(0, eq)] ??= []) as string[]).push(line.slice(eq + 1));
  }
  return unit;
}

/** Every space-separated word of every value of `key` (After=, Before=… lists). */
const words = (unit: UnitFile, section: string, key: string): string[] => (unit[section]?.[key] ?? []).flatMap((v) => v.split(/\s+/).filter(Boolean));
const one = (unit: UnitFile, section: string, key: string): string | undefined => unit[section]?.[key]?.at(-1);

describe('deploy: systemd units', function () {
  let root: string;

  before(async function () {
    this.timeout(300_000);
    requireDebianRootfs(this);
    requireCommand(this, 'systemd-analyze');
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-units-'));
    await unpackDebianRootfs(root);
    // The units' executables, where the units name them: node and the binds script are what they run; the agent's
    // JavaScript is not an executable systemd checks.
    const opt = path.join(root, 'opt/overlay-warden');
    fs.mkdirSync(path.join(opt, 'node_modules/.bin'), { recursive: true });
    fs.writeFileSync(path.join(opt, 'node_modules/.bin/node'), '#!/bin/sh\n', { mode: 0o755 });
    fs.mkdirSync(path.join(opt, 'deploy'), { recursive: true });
    fs.cpSync(QUBES, path.join(opt, 'deploy/qubes'), { recursive: true });
    const units = path.join(root, 'etc/systemd/system');
    for (const name of ['overlay-warden.service', 'overlay-warden-mount.service']) fs.copyFileSync(path.join(SYSTEMD, name), path.join(units, name));
    for (const name of ['overlay-warden-qubes-mount.service', 'overlay-warden-qubes-pivot.path', 'overlay-warden-qubes-pivot.service'])
      fs.copyFileSync(path.join(QUBES, name), path.join(units, name));
  });

  after(() => {
    if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
  });

  const verify = (...units: string[]): void => {
    const run = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.equal(`${run.stdout}${run.stderr}`.trim(), '', 'no warnings either');
  };

  it('plain host: systemd-analyze verify accepts the agent and the mount unit', () => {
    verify('overlay-warden.service', 'overlay-warden-mount.service');
  });

  it('Qubes: systemd-analyze verify accepts the mount unit, and the agent with its drop-in', () => {
    const dropIn = path.join(root, 'etc/systemd/system/overlay-warden.service.d');
    fs.mkdirSync(dropIn, { recursive: true });
    fs.copyFileSync(path.join(QUBES, 'overlay-warden.service.d/qubes.conf'), path.join(dropIn, 'qubes.conf'));
    try {
      verify('overlay-warden-qubes-mount.service', 'overlay-warden.service', 'overlay-warden-qubes-pivot.path', 'overlay-warden-qubes-pivot.service');
    } finally {
      fs.rmSync(dropIn, { recursive: true });
    }
  });

  it('verify is not blind: it reports a misspelt key', () => {
    const bad = path.join(root, 'etc/systemd/system/ow-misspelt.service');
    fs.writeFileSync(bad, '[Service]\nType=oneshot\nExecStart=/bin/true\nWatchdogSecs=5\n');
    const run = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'ow-misspelt.service'], { encoding: 'utf8' });
    assert.match(`${run.stdout}${run.stderr}`, /Unknown key 'WatchdogSecs'/);
  });

  it('the agent is Type=notify with a watchdog, notifications from its child allowed, restarted on failure', () => {
    const agent = readUnit(path.join(SYSTEMD, 'overlay-warden.service'));
    assert.equal(one(agent, 'Service', 'Type'), 'notify');
    assert.equal(one(agent, 'Service', 'NotifyAccess'), 'all', 'systemd-notify is a child of the agent');
    assert.match(one(agent, 'Service', 'WatchdogSec') ?? '', /^[1-9][0-9]*s$/);
    assert.equal(one(agent, 'Service', 'Restart'), 'on-failure');
    assert.match(
      one(agent, 'Service', 'ExecStart') ?? '',
      /^\/opt\/overlay-warden\/node_modules\/\.bin\/node \/opt\/overlay-warden\/dist\/agent\/cli\/main\.js run$/,
    );
    // Boot does not wait for an agent that stays unready on a broken mount.
    assert.equal(one(agent, 'Unit', 'DefaultDependencies'), 'no');
    assert.ok(words(agent, 'Unit', 'Conflicts').includes('shutdown.target') && words(agent, 'Unit', 'Before').includes('shutdown.target'));
    assert.ok(words(agent, 'Unit', 'After').includes('overlay-warden-mount.service'));
    assert.ok(!words(agent, 'Unit', 'Before').includes('nix-daemon.service'), 'nix-daemon waits for the mount, not for the agent');
  });

  it('the mount units run before nix-daemon, which requires them, and stay active after mounting', () => {
    for (const file of [path.join(SYSTEMD, 'overlay-warden-mount.service'), path.join(QUBES, 'overlay-warden-qubes-mount.service')]) {
      const unit = readUnit(file);
      assert.equal(one(unit, 'Service', 'Type'), 'oneshot', file);
      assert.equal(one(unit, 'Service', 'RemainAfterExit'), 'yes', file);
      for (const daemon of ['nix-daemon.service', 'nix-daemon.socket', 'overlay-warden.service'])
        assert.ok(words(unit, 'Unit', 'Before').includes(daemon), `${file}: Before=${daemon}`);
      for (const daemon of ['nix-daemon.service', 'nix-daemon.socket'])
        assert.ok(words(unit, 'Install', 'RequiredBy').includes(daemon), `${file}: RequiredBy=${daemon}`);
      assert.match(unit['Service']?.['ExecStart']?.at(-1) ?? '', / mount$/, file);
    }
  });

  it('Qubes: only in AppVMs, /rw mounted first, the agent after the overlay', () => {
    const mount = readUnit(path.join(QUBES, 'overlay-warden-qubes-mount.service'));
    const dropIn = readUnit(path.join(QUBES, 'overlay-warden.service.d/qubes.conf'));
    assert.equal(one(mount, 'Unit', 'ConditionPathExists'), '/run/qubes/this-is-appvm');
    assert.equal(one(dropIn, 'Unit', 'ConditionPathExists'), '/run/qubes/this-is-appvm');
    assert.ok(words(mount, 'Unit', 'RequiresMountsFor').includes('/rw'));
    assert.ok(words(mount, 'Unit', 'After').includes('qubes-mount-dirs.service'));
    assert.deepEqual(mount['Service']?.['ExecStart']?.[0], '/opt/overlay-warden/deploy/qubes/overlay-warden-qubes-binds');
    assert.ok(words(dropIn, 'Unit', 'Requires').includes('overlay-warden-qubes-mount.service'));
    assert.ok(words(dropIn, 'Unit', 'After').includes('overlay-warden-qubes-mount.service'));
    assert.ok(words(dropIn, 'Unit', 'After').includes('qubes-mount-dirs.service'), 'the bind-dirs state dir is there first');
  });

  it('Qubes: the list of paths a template update removes starts pivot on exactly that file, once', () => {
    const trigger = readUnit(path.join(QUBES, 'overlay-warden-qubes-pivot.path'));
    const pivot = readUnit(path.join(QUBES, 'overlay-warden-qubes-pivot.service'));
    const list = one(trigger, 'Path', 'PathExists');
    assert.equal(list, '/rw/overlay-warden/pivot/dead-paths');
    assert.equal(one(trigger, 'Path', 'Unit'), 'overlay-warden-qubes-pivot.service');
    assert.equal(one(trigger, 'Unit', 'ConditionPathExists'), '/run/qubes/this-is-appvm');
    assert.ok(one(pivot, 'Service', 'ExecStart')?.endsWith(` pivot --dead ${list}`));
    // Renamed whatever the outcome: a list left in place would start the service again and again.
    assert.match(one(pivot, 'Service', 'ExecStopPost') ?? '', new RegExp(`mv -f ${list} "${list}\\.\\$SERVICE_RESULT"`));
    assert.ok(words(pivot, 'Unit', 'Requires').includes('overlay-warden-qubes-mount.service'));
  });

  it('Qubes bind-dirs keeps the agent state dir, and only that', () => {
    const conf = fs.readFileSync(path.join(QUBES, '50_overlay-warden.conf'), 'utf8');
    const binds = conf.split('\n').filter((line) => !line.startsWith('#') && line.trim() !== '');
    assert.deepEqual(binds, ["binds+=( '/var/lib/overlay-warden' )"]);
  });
});
