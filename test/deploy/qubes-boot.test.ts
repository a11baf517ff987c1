/**
 * A Qubes template VM's Nix store, for real: the shared Debian root boots four times under systemd-nspawn as an AppVM of
 * a template whose store is built with real Nix. Boot 1: deploy/qubes's units mount the overlay (template store
 * read-only below, /rw above), the agent tells systemd it is ready, and Nix adds a path to the upper layer that uses
 * a template path. The template is then updated (paths added, that one garbage-collected). Boot 2: the agent reports
 * the drift since boot 1 (its baseline kept under /rw by bind-dirs) and the upper closure the update broke, and the
 * alerts reach a webhook receiver on the host. Boot 3: Nix adds a path that uses a template path, the template
 * announces that its next update removes that path (the list deploy/qubes/README.md has the administrator hand over),
 * and the pivot units copy it up. The template's GC then removes it. Boot 4: nothing broke.
 *
 * Nix 2.8 predates local-overlay stores: inside the AppVM it uses the merged store as a plain local store (its
 * state, /nix/var/nix, is the upper state bound from /rw), and the template path's metadata is copied up with
 * `--load-db` first, as the overlay store does the first time an upper path needs a lower one (nix-overlay-fixture.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BASELINE_FILE_NAME } from '../../agent/baseline/index.ts';
import { builtAgentDir, ROOT as PROJECT } from '../support/built-dist.ts';
import { requireDebianRootfs } from '../support/debian-rootfs.ts';
import { busyboxPath, NIX_TEST_CONF, nixEnv, runNix } from '../support/nix-kit.ts';
import { bootAppVm, createAppVm, type AppVm } from '../support/qubes-appvm.ts';
import { requireCommand, requireMountNamespaces, requireNix } from '../support/requirements.ts';
import { waitFor } from '../support/wait-for.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { systemctlProperties } from '../support/nspawn-machine.ts';

/** One boot, from start to power-off, at most (a safety net: a boot takes seconds). */
const BOOT_TIMEOUT_MS = 120_000;

interface WebhookAlert {
  readonly status: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** Saves the state of the units and the journal of this boot under /rw/test/NAME (for the assertions and for a failure's message). */
const RECORD = (name: string): string => `
out=/rw/test/${name}
mkdir -p "$out"
systemctl show -p ActiveState -p SubState -p StatusText -p NRestarts -p WatchdogTimestampMonotonic overlay-warden.service > "$out/agent.txt"
systemctl show -p ActiveState -p Result overlay-warden-qubes-mount.service > "$out/mount-unit.txt"
findmnt -n -o FSTYPE,OPTIONS /nix/store > "$out/store-mount.txt" || true
findmnt -n -o SOURCE /nix/var/nix > "$out/state-mount.txt" || true
cp /run/overlay-warden/nix.conf "$out/nix.conf" || true
`;

const JOURNAL = (name: string): string =>
  `journalctl --no-pager -b -o cat -u overlay-warden.service -u overlay-warden-qubes-mount.service -u qubes-mount-dirs.service > /rw/test/${name}/journal.txt\n`;

/** Nix inside the AppVM: the test kit's settings; logs in the upper state (the template's /nix is read-only). */
const NIX_IN_APPVM = 'export NIX_CONF_DIR=/rw/test/nix-conf NIX_LOG_DIR=/nix/var/nix/log NIX_USER_CONF_FILES=/nonexistent\n';

describe('deploy: a Qubes AppVM boots four times under systemd-nspawn with the template store below and /rw above', function () {
  let dir: string;
  let vm: AppVm;
  let receiver: WebhookReceiver;
  let tools: string;
  let greeting: string;
  let old: string;
  let upperPath: string;
  /** The template path update 1 adds; boot 3's upper path uses it, update 2 removes it after pivot. */
  let added: string;
  let upperPath3: string;
  const nix = (args: string[]): string => runNix('nix-store', ['--store', vm.template, ...args], nixEnv()).trim();
  const journal = (name: string): string => fs.readFileSync(path.join(vm.rw, 'test', name, 'journal.txt'), 'utf8');
  const readResult = (name: string, file: string): string => fs.readFileSync(path.join(vm.rw, 'test', name, file), 'utf8');
  /** /rw/test/NAME.nix: a derivation built with the template's busybox whose output references the template path `uses`. */
  const writeAppVmTool = (name: string, uses: string): void =>
    fs.writeFileSync(
      path.join(vm.rw, `test/${name}.nix`),
      `derivation {
  name = "${name}";
  system = builtins.currentSystem;
  builder = "\${builtins.storePath ${tools}}/busybox";
  args = [ "sh" "-c" "echo uses \${builtins.storePath ${uses}} > $out" ];
}
`,
    );

  before(async function () {
    this.timeout(300_000);
    requireDebianRootfs(this);
    requireMountNamespaces(this);
    requireNix(this);
    for (const command of ['systemd-nspawn', 'systemctl', 'busybox']) requireCommand(this, command);
    builtAgentDir();
    receiver = await WebhookReceiver.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-qubes-'));
    // The shipped configuration, with the webhook pointed at the receiver, no HTTP port taken on the shared host
    // network, and the audit soon after drift (the test's time, not the template's).
    const shipped = fs.readFileSync(path.join(PROJECT, 'deploy/qubes/overlay-warden.yaml'), 'utf8');
    const config = shipped
      .replace('http://127.0.0.1:9099/overlay-warden', receiver.url)
      .replace('address: 127.0.0.1:9873', 'address: "off"')
      .replace('afterDrift: 10s', 'afterDrift: 1s');
    assert.ok(config.includes(receiver.url) && config.includes('address: "off"'), 'the shipped configuration has the webhook and http lines the test adapts');
    vm = await createAppVm(dir, config);

    // The template's store: a busybox, a file the AppVM's path will use, and one nothing uses.
    const src = path.join(dir, 'src');
    fs.mkdirSync(path.join(src, 'tools'), { recursive: true });
    fs.copyFileSync(busyboxPath(), path.join(src, 'tools/busybox'));
    fs.writeFileSync(path.join(src, 'greeting'), 'hello from the template\n');
    fs.writeFileSync(path.join(src, 'old-tool'), 'replaced by the next template update\n');
    tools = nix(['--add', path.join(src, 'tools')]);
    greeting = nix(['--add', path.join(src, 'greeting')]);
    old = nix(['--add', path.join(src, 'old-tool')]);

    // What the AppVM's Nix needs: its settings, the template paths' metadata to copy up, the derivation.
    fs.mkdirSync(path.join(vm.rw, 'test/nix-conf'), { recursive: true });
    fs.writeFileSync(path.join(vm.rw, 'test/nix-conf/nix.conf'), NIX_TEST_CONF);
    fs.writeFileSync(path.join(vm.rw, 'test/lower-meta.dump'), nix(['--dump-db', tools, greeting]) + '\n');
    writeAppVmTool('appvm-tool', greeting);
  });

  after(async () => {
    await receiver?.close();
    // OW_KEEP=1 keeps the AppVM's root, /rw (results and journals under /rw/test) and the template for a look.
    if (dir !== undefined && process.env['OW_KEEP'] === undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('boot 1: the units mount the overlay, the agent is ready, and Nix adds a path to the upper layer', async function () {
    this.timeout(BOOT_TIMEOUT_MS + 10_000);
    fs.writeFileSync(
      path.join(vm.rw, 'test/boot.sh'),
      `${RECORD('boot1')}
${NIX_IN_APPVM}
nix-store --load-db < /rw/test/lower-meta.dump
nix-build --no-out-link /rw/test/appvm-tool.nix > "$out/upper-path" 2> "$out/nix.log"
echo $? > "$out/nix-status"
${JOURNAL('boot1')}
systemctl poweroff --no-block
`,
    );
    const boot = await bootAppVm(vm, BOOT_TIMEOUT_MS).done;
    const context = (): string => `${journal('boot1')}\n--- console ---\n${boot.console.slice(-4000)}`;
    assert.equal(boot.exitCode, 0, context());

    const agent = systemctlProperties(readResult('boot1', 'agent.txt'));
    assert.equal(agent['ActiveState'], 'active', context());
    // Type=notify: active means systemd got READY=1; the status line is the agent's own.
    assert.equal(agent['StatusText'], 'watching /nix/store: the mount is valid', context());
    assert.notEqual(agent['WatchdogTimestampMonotonic'], '0', 'systemd got a WATCHDOG=1');
    assert.equal(agent['NRestarts'], '0', context());
    assert.deepEqual(systemctlProperties(readResult('boot1', 'mount-unit.txt')), { ActiveState: 'active', Result: 'success' });

    const [fsType, options] = readResult('boot1', 'store-mount.txt').trim().split(/\s+/);
    assert.equal(fsType, 'overlay');
    const option = (name: string): string | undefined => options!.split(',').find((o) => o.startsWith(`${name}=`));
    assert.equal(option('lowerdir'), 'lowerdir=/run/overlay-warden/template/nix/store');
    assert.equal(option('upperdir'), 'upperdir=/rw/overlay-warden/upper');
    assert.equal(option('workdir'), 'workdir=/rw/overlay-warden/work');
    assert.match(readResult('boot1', 'state-mount.txt'), /\/rw\/overlay-warden\/nix-var|\[\/overlay-warden\/nix-var\]/);
    // What the template's nix.conf includes in the AppVM: this store, its lower store %-escaped, the installed hook.
    const nixConf = readResult('boot1', 'nix.conf');
    assert.match(
      nixConf,
      /^store = local-overlay:\/\/\?lower-store=local%3Froot%3D\/run\/overlay-warden\/template%26read-only%3Dtrue&upper-layer=\/rw\/overlay-warden\/upper&/m,
    );
    assert.match(nixConf, /remount-hook=\/opt\/overlay-warden\/hooks\/nix-remount-hook/);

    assert.equal(readResult('boot1', 'nix-status').trim(), '0', readResult('boot1', 'nix.log'));
    upperPath = readResult('boot1', 'upper-path').trim();
    const base = path.basename(upperPath);
    // In the upper layer under /rw, not in the template's store; it uses the template's greeting.
    assert.equal(fs.readFileSync(path.join(vm.rw, 'overlay-warden/upper', base), 'utf8'), `uses ${greeting}\n`);
    assert.ok(!fs.existsSync(path.join(vm.template, upperPath)), 'the template store is never written');
    // The upper DB lives under /rw, and is not a copy of the template's.
    assert.ok(fs.existsSync(path.join(vm.rw, 'overlay-warden/nix-var/db/db.sqlite')));
    assert.ok(fs.existsSync(path.join(vm.rw, 'bind-dirs/var/lib/overlay-warden', BASELINE_FILE_NAME)), 'the agent baseline is kept under /rw');
    assert.ok(!fs.existsSync(path.join(vm.root, 'var/lib/overlay-warden')), 'the root volume keeps nothing of the boot (as an AppVM root)');
    assert.match(journal('boot1'), /no lower-store baseline yet/);
  });

  it('template update: paths added, and garbage-collected, among them the one the upper path uses', () => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(path.join(src, 'new-tool'), 'added by the template update\n');
    added = nix(['--add', path.join(src, 'new-tool')]);
    nix(['--delete', greeting, old]);
    assert.ok(fs.existsSync(path.join(vm.template, added)));
    assert.ok(!fs.existsSync(path.join(vm.template, greeting)) && !fs.existsSync(path.join(vm.template, old)));
  });

  it('boot 2: the agent reports the drift since boot 1 and the broken upper closure, and the alerts reach the webhook', async function () {
    this.timeout(BOOT_TIMEOUT_MS + 10_000);
    fs.writeFileSync(
      path.join(vm.rw, 'test/boot.sh'),
      `${RECORD('boot2')}
# Up until the host has the alerts (or two minutes), then off.
for i in $(seq 1 600); do [ -e /rw/test/poweroff ] && break; sleep 0.2; done
${JOURNAL('boot2')}
systemctl poweroff --no-block
`,
    );
    const boot = bootAppVm(vm, BOOT_TIMEOUT_MS);
    const firing = (): WebhookAlert[] =>
      receiver
        .bodies<{ alerts: WebhookAlert[] }>()
        .flatMap((body) => body.alerts)
        .filter((alert) => alert.status === 'firing');
    const named = (alertname: string): WebhookAlert[] => firing().filter((alert) => alert.labels['alertname'] === alertname);
    const drifted = (change: string): WebhookAlert | undefined => named('OverlayWardenLowerStoreDrifted').find((alert) => alert.labels['change'] === change);
    try {
      await waitFor(
        () => drifted('shrank') !== undefined && drifted('grew') !== undefined && named('OverlayWardenUpperClosuresBroken').length > 0,
        'the alerts of boot 2',
        {
          timeoutMs: BOOT_TIMEOUT_MS / 2,
          describe: () => `${JSON.stringify(firing(), null, 1)}\n--- console ---\n${boot.console().slice(-6000)}`,
        },
      );
    } catch (error) {
      // Off all the same, before the test's directory goes.
      fs.writeFileSync(path.join(vm.rw, 'test/poweroff'), '');
      await boot.done.catch(() => undefined);
      throw error;
    }
    fs.writeFileSync(path.join(vm.rw, 'test/poweroff'), '');
    const result = await boot.done;
    assert.equal(result.exitCode, 0, result.console.slice(-4000));

    const [shrank, grew] = [drifted('shrank'), drifted('grew')];
    assert.ok(shrank !== undefined && grew !== undefined, JSON.stringify(named('OverlayWardenLowerStoreDrifted')));
    for (const gone of [greeting, old]) assert.ok(shrank.annotations['evidence']!.includes(path.basename(gone)), shrank.annotations['evidence']);
    assert.ok(grew.annotations['evidence']!.includes('-new-tool'), grew.annotations['evidence']);
    const broken = named('OverlayWardenUpperClosuresBroken');
    const evidence = broken.map((alert) => alert.annotations['evidence']).join('\n');
    assert.ok(evidence.includes(path.basename(greeting)), evidence);
    assert.ok(evidence.includes(path.basename(upperPath)), evidence);

    const agent = systemctlProperties(readResult('boot2', 'agent.txt'));
    assert.equal(agent['ActiveState'], 'active', journal('boot2'));
    assert.equal(agent['StatusText'], 'watching /nix/store: the mount is valid');
    assert.doesNotMatch(journal('boot2'), /no lower-store baseline yet/, 'the baseline of boot 1 was there');
  });

  it('boot 3: a path that uses a template path; the template announces the update removes it; pivot copies it up', async function () {
    this.timeout(BOOT_TIMEOUT_MS + 10_000);
    fs.writeFileSync(path.join(vm.rw, 'test/lower-meta-3.dump'), nix(['--dump-db', added]) + '\n');
    writeAppVmTool('appvm-tool-3', added);
    // What `nix-store --gc --print-dead` in the template prints for the update to come: one store path a line.
    fs.writeFileSync(path.join(vm.rw, 'test/dead-paths'), `${added}\n`);
    fs.writeFileSync(
      path.join(vm.rw, 'test/boot.sh'),
      `${RECORD('boot3')}
${NIX_IN_APPVM}
nix-store --load-db < /rw/test/lower-meta-3.dump
nix-build --no-out-link /rw/test/appvm-tool-3.nix > "$out/upper-path" 2> "$out/nix.log"
echo $? > "$out/nix-status"
# The administrator's step: the list, root's, where overlay-warden-qubes-pivot.path looks.
install -m 0644 /rw/test/dead-paths /rw/overlay-warden/pivot/dead-paths
for i in $(seq 1 600); do ls /rw/overlay-warden/pivot/dead-paths.* > /dev/null 2>&1 && break; sleep 0.2; done
ls /rw/overlay-warden/pivot > "$out/pivot-files.txt"
journalctl --no-pager -b -o cat -u overlay-warden-qubes-pivot.service > "$out/pivot-journal.txt"
${JOURNAL('boot3')}
systemctl poweroff --no-block
`,
    );
    const boot = await bootAppVm(vm, BOOT_TIMEOUT_MS).done;
    const context = (): string => `${readResult('boot3', 'pivot-journal.txt')}\n${journal('boot3')}\n--- console ---\n${boot.console.slice(-4000)}`;
    assert.equal(boot.exitCode, 0, context());
    assert.equal(readResult('boot3', 'nix-status').trim(), '0', readResult('boot3', 'nix.log'));
    upperPath3 = readResult('boot3', 'upper-path').trim();
    assert.deepEqual(readResult('boot3', 'pivot-files.txt').trim().split('\n'), ['dead-paths.success'], context());
    // The template path the upper path needs is now in the upper layer too, byte for byte.
    const copied = path.join(vm.rw, 'overlay-warden/upper', path.basename(added));
    assert.equal(fs.readFileSync(copied, 'utf8'), fs.readFileSync(path.join(vm.template, added), 'utf8'), context());
  });

  it('template update 2: the announced path is garbage-collected', () => {
    nix(['--delete', added]);
    assert.ok(!fs.existsSync(path.join(vm.template, added)));
  });

  it('boot 4: nothing broke: the upper path still reads the template path it uses, and no broken closure names it', async function () {
    this.timeout(BOOT_TIMEOUT_MS + 10_000);
    fs.writeFileSync(
      path.join(vm.rw, 'test/boot.sh'),
      `${RECORD('boot4')}
${NIX_IN_APPVM}
cat ${added} > "$out/added-content" 2>&1 || true
nix-store --verify-path ${added} ${upperPath3} > "$out/verify.txt" 2>&1
echo $? > "$out/verify-status"
OVERLAY_WARDEN_CONFIG=/etc/overlay-warden/overlay-warden.yaml /opt/overlay-warden/node_modules/.bin/node /opt/overlay-warden/dist/agent/cli/main.js audit --json > "$out/audit.json" 2> "$out/audit.err" || true
${JOURNAL('boot4')}
systemctl poweroff --no-block
`,
    );
    const boot = await bootAppVm(vm, BOOT_TIMEOUT_MS).done;
    assert.equal(boot.exitCode, 0, `${journal('boot4')}\n--- console ---\n${boot.console.slice(-4000)}`);
    assert.equal(readResult('boot4', 'added-content'), fs.readFileSync(path.join(dir, 'src/new-tool'), 'utf8'));
    assert.equal(readResult('boot4', 'verify-status').trim(), '0', readResult('boot4', 'verify.txt'));
    const audit = JSON.parse(readResult('boot4', 'audit.json')) as { findings: Array<{ id: string; message: string; evidence: unknown }> };
    const broken = audit.findings.filter((f) => f.id === 'store.broken-closure').map((f) => JSON.stringify(f));
    // Boot 1's path still misses the greeting update 1 removed without a pivot; boot 3's path misses nothing.
    assert.ok(
      broken.some((f) => f.includes(path.basename(greeting))),
      readResult('boot4', 'audit.json').slice(0, 4000),
    );
    for (const f of broken) {
      assert.ok(!f.includes(path.basename(added)) && !f.includes(path.basename(upperPath3)), f);
    }
  });
});
