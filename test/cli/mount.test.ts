/**
 * `overlay-warden mount` / `unmount` on real mounts (each scenario in a private mount namespace) over a real Nix 2.8
 * lower store: creation of the layer dirs, idempotence, refusal of a wrong mount or another filesystem, roll-back,
 * `--dry-run`, and `--print-nix-conf` read back by our store-URL parser and by Nix 2.8's own config parser.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseStoreUrl } from '../../agent/store/index.ts';
import { parseEnvelope, type Envelope } from '../support/json-output.ts';
import { runCliProcess } from '../support/cli-run.ts';
import { MountNamespace } from '../support/mount-namespace.ts';
import { createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { ROOT } from '../support/built-dist.ts';

describe('overlay-warden mount and unmount, on real mounts', function () {
  this.timeout(180_000);
  let fixture: NixOverlayFixture;
  let lowerPath: string;
  let layers: string;

  before(function () {
    requireNixOverlayFixture(this);
    fixture = createNixOverlayFixture();
    // The fixture's own upper and work dirs are not used: `mount` must make its own.
    layers = path.join(fixture.dir, 'layers');
    lowerPath = parseAssignments(fixture.unmounted('cd "$(dirname "$EXPR")"; echo lower > lower-file; echo "P=$(nix-store --store "$A" --add lower-file)"'))[
      'P'
    ]!;
  });
  after(() => fixture?.remove());

  /** Writes a config file for the fixture's store with `upper` as upper layer and `mount` settings; returns its path. */
  function config(name: string, mount: Record<string, unknown> = {}, upper = path.join(layers, 'upper')): string {
    const file = path.join(fixture.dir, `${name}.json`);
    const url = `local-overlay://?root=${fixture.mergedRoot}&lower-store=${encodeURIComponent(fixture.lowerRoot)}&upper-layer=${upper}`;
    fs.writeFileSync(file, JSON.stringify({ store: { url }, stateDir: path.join(fixture.dir, 'state'), mount }), { mode: 0o644 });
    return file;
  }

  /** `overlay-warden ARGV --json` (inside `ns` when given): exit code and the envelope, validated against the schema. */
  function cli(argv: readonly string[], ns?: MountNamespace): { code: number | null; envelope: Envelope } {
    const run = runCliProcess([...argv, '--json'], { prefix: ns?.nsenter ?? [], env: process.env });
    const envelope = parseEnvelope(run.stdout, argv[0]);
    assert.equal(envelope.exitCode, run.status, run.stderr);
    return { code: run.status, envelope };
  }

  /** The mountinfo lines at the merged store dir, in the namespace. */
  function mountsAtMerged(ns: MountNamespace): string[] {
    return ns.bash(`findmnt -n -r -o FSTYPE,OPTIONS --mountpoint ${fixture.mergedStoreDir} || true`).trim().split('\n').filter(Boolean);
  }

  describe('one namespace, from nothing to mounted and back', () => {
    let ns: MountNamespace;
    const file = (): string => config('plain');
    before(async () => {
      fs.rmSync(layers, { recursive: true, force: true });
      ns = await MountNamespace.open();
    });
    after(async () => ns?.close());

    it('--dry-run: says what it would create and the exact command, and changes nothing', () => {
      const { code, envelope } = cli(['mount', '--dry-run', '--config', file()], ns);
      assert.equal(code, 0);
      const r = envelope.result!;
      assert.equal(r['status'], 'would-mount');
      assert.deepEqual(
        r['created'].map((d: { role: string; path: string }) => [d.role, d.path]),
        [
          ['upper layer', path.join(layers, 'upper')],
          ['work dir', path.join(layers, 'work')],
        ],
      );
      assert.equal(
        r['command'],
        `LIBMOUNT_FORCE_MOUNT2=always mount -t overlay overlay -o lowerdir=${fixture.lowerStoreDir},upperdir=${layers}/upper,workdir=${layers}/work ${fixture.mergedStoreDir}`,
      );
      assert.equal(fs.existsSync(layers), false, 'nothing created');
      assert.deepEqual(mountsAtMerged(ns), [], 'nothing mounted');
    });

    it('mounts: creates the upper layer (the lower store dir’s mode, never writable by others) and a 0700 work dir, then checks', () => {
      const { code, envelope } = cli(['mount', '--config', file()], ns);
      assert.equal(code, 0, JSON.stringify(envelope.findings));
      assert.equal(envelope.result!['status'], 'mounted');
      assert.ok(envelope.findings.some((f) => f.id === 'mount.ok'));
      const lowerMode = fs.statSync(fixture.lowerStoreDir).mode & 0o7777;
      const expectedUpper = lowerMode & ((lowerMode & 0o1000) !== 0 ? 0o1775 : 0o755);
      assert.equal(fs.statSync(path.join(layers, 'upper')).mode & 0o7777, expectedUpper);
      assert.equal(fs.statSync(path.join(layers, 'work')).mode & 0o7777, 0o700);
      const mounts = mountsAtMerged(ns);
      assert.equal(mounts.length, 1);
      assert.match(mounts[0]!, new RegExp(`^overlay .*lowerdir=${fixture.lowerStoreDir},upperdir=${layers}/upper,workdir=${layers}/work`));
      // The workload's view: the lower path through the merged dir.
      assert.equal(ns.bash(`cat ${fixture.mergedStoreDir}/${path.basename(lowerPath)}`), 'lower\n');
    });

    it('again: the right mount is left alone (nothing created, nothing stacked)', () => {
      const { code, envelope } = cli(['mount', '--config', file()], ns);
      assert.equal(code, 0);
      assert.deepEqual([envelope.result!['status'], envelope.result!['created']], ['already-mounted', []]);
      assert.equal(mountsAtMerged(ns).length, 1);
    });

    it('--print-nix-conf: a URL our parser reads back to the same store, check-mount left on, and Nix 2.8 reads it', () => {
      const { code, envelope } = cli(['mount', '--print-nix-conf', '--config', file()], ns);
      assert.equal(code, 0);
      const { storeUrl, checkMountOff, nixConf } = envelope.result! as { storeUrl: string; checkMountOff: boolean; nixConf: string };
      assert.equal(checkMountOff, false, 'Nix accepts a mount with one lowerdir and plain paths');
      const parsed = parseStoreUrl(storeUrl);
      assert.equal(parsed.kind, 'local-overlay');
      if (parsed.kind !== 'local-overlay') return;
      assert.deepEqual(
        [parsed.root, parsed.lowerStore.url, parsed.upperLayer, parsed.checkMount, parsed.remountHook],
        [fixture.mergedRoot, fixture.lowerRoot, path.join(layers, 'upper'), true, path.join(ROOT, 'hooks', 'nix-remount-hook')],
      );
      assert.equal(nixStoreSetting(nixConf), storeUrl);
      // The text form prints exactly the same lines.
      const text = runCliProcess(['mount', '--print-nix-conf', '--config', file()], { prefix: ns.nsenter });
      assert.equal(text.stdout, nixConf);
    });

    it('unmount refuses another store’s overlay; mount refuses it too and leaves it in place', () => {
      cli(['unmount', '--config', file()], ns);
      ns.bash(`mkdir -p ${fixture.dir}/other/u ${fixture.dir}/other/w
        mount -t overlay overlay -o lowerdir=${fixture.lowerStoreDir},upperdir=${fixture.dir}/other/u,workdir=${fixture.dir}/other/w ${fixture.mergedStoreDir}`);
      const mounted = cli(['mount', '--config', file()], ns);
      assert.equal(mounted.code, 1);
      assert.equal(mounted.envelope.result!['status'], 'refused');
      assert.ok(mounted.envelope.findings.some((f) => f.id === 'mount.upper-mismatch' && f.severity === 'error'));
      const unmounted = cli(['unmount', '--config', file()], ns);
      assert.deepEqual([unmounted.code, unmounted.envelope.result!['status']], [1, 'refused']);
      const mounts = mountsAtMerged(ns);
      assert.equal(mounts.length, 1);
      assert.match(mounts[0]!, new RegExp(`upperdir=${fixture.dir}/other/u`), 'the other overlay is still the one mounted');
      ns.bash(`umount ${fixture.mergedStoreDir}`);
    });

    it('another filesystem at the merged store dir: MOUNT_SETUP_OTHER_MOUNT, left in place', () => {
      ns.bash(`mount -t tmpfs tmpfs ${fixture.mergedStoreDir}`);
      const { code, envelope } = cli(['mount', '--config', file()], ns);
      assert.equal(code, 1);
      assert.equal(envelope.error!.code, 'MOUNT_SETUP_OTHER_MOUNT');
      assert.match(envelope.error!.message, /already a mount point of tmpfs/);
      assert.deepEqual(
        mountsAtMerged(ns).map((l) => l.split(' ')[0]),
        ['tmpfs'],
      );
      ns.bash(`umount ${fixture.mergedStoreDir}`);
    });

    it('unmount takes its own overlay down, and then has nothing to do', () => {
      assert.equal(cli(['mount', '--config', file()], ns).envelope.result!['status'], 'mounted');
      const first = cli(['unmount', '--config', file()], ns);
      assert.deepEqual([first.code, first.envelope.result!['status']], [0, 'unmounted']);
      assert.deepEqual(mountsAtMerged(ns), []);
      const second = cli(['unmount', '--config', file()], ns);
      assert.deepEqual([second.code, second.envelope.result!['status']], [0, 'not-mounted']);
    });
  });

  describe('several lower layers', () => {
    let ns: MountNamespace;
    before(async () => {
      ns = await MountNamespace.open();
    });
    after(async () => ns?.close());

    it('mounts them top first above the lower store; --print-nix-conf then switches check-mount off, saying why, and Nix 2.8 reads it', () => {
      const extra = path.join(fixture.dir, 'extra-layer');
      fs.mkdirSync(extra, { recursive: true });
      fs.writeFileSync(path.join(extra, 'from-extra'), 'extra\n');
      const file = config('extra', { extraLowerDirs: [extra], workDir: path.join(fixture.dir, 'layers2', 'w') }, path.join(fixture.dir, 'layers2', 'u'));
      const { code, envelope } = cli(['mount', '--config', file], ns);
      assert.equal(code, 0, JSON.stringify(envelope));
      assert.equal(envelope.result!['status'], 'mounted');
      assert.match(mountsAtMerged(ns)[0]!, new RegExp(`lowerdir=${extra}:${fixture.lowerStoreDir},`));
      assert.equal(ns.bash(`cat ${fixture.mergedStoreDir}/from-extra`), 'extra\n');
      const conf = cli(['mount', '--print-nix-conf', '--config', file], ns).envelope.result! as { storeUrl: string; checkMountOff: boolean; nixConf: string };
      assert.equal(conf.checkMountOff, true);
      assert.match(conf.nixConf, /# check-mount: Nix's own check-mount would refuse this mount \(it looks for 'lowerdir=\S+' alone/);
      const parsed = parseStoreUrl(conf.storeUrl);
      assert.equal(parsed.kind === 'local-overlay' && parsed.checkMount, false);
      assert.equal(nixStoreSetting(conf.nixConf), conf.storeUrl);
    });
  });

  describe('refusals before anything is mounted', () => {
    let ns: MountNamespace;
    before(async () => {
      ns = await MountNamespace.open();
    });
    after(async () => ns?.close());

    it('a work dir on another filesystem: MOUNT_SETUP_WORKDIR_OTHER_FS, nothing mounted', () => {
      const other = path.join(fixture.dir, 'other-fs');
      fs.mkdirSync(other, { recursive: true });
      ns.bash(`mount -t tmpfs tmpfs ${other}`);
      const file = config('other-fs', { workDir: path.join(other, 'work') }, path.join(fixture.dir, 'layers3', 'upper'));
      const { code, envelope } = cli(['mount', '--config', file], ns);
      assert.deepEqual([code, envelope.error?.code], [1, 'MOUNT_SETUP_WORKDIR_OTHER_FS']);
      assert.deepEqual(mountsAtMerged(ns), []);
    });

    it('an upper layer that is a symlink: MOUNT_SETUP_SYMLINK, not followed', () => {
      const target = path.join(fixture.dir, 'elsewhere');
      fs.mkdirSync(target, { recursive: true });
      const link = path.join(fixture.dir, 'upper-link');
      fs.symlinkSync(target, link);
      const { code, envelope } = cli(['mount', '--config', config('symlink', {}, link)], ns);
      assert.deepEqual([code, envelope.error?.code], [1, 'MOUNT_SETUP_SYMLINK']);
      assert.deepEqual(fs.readdirSync(target), []);
      assert.deepEqual(mountsAtMerged(ns), []);
    });

    it('a mount the check afterwards refuses (options: [ro] on a store meant to be writable) is taken down again', () => {
      const file = config('read-only', { options: ['ro'] }, path.join(fixture.dir, 'layers5', 'upper'));
      const { code, envelope } = cli(['mount', '--config', file], ns);
      assert.equal(code, 1);
      assert.deepEqual([envelope.result!['status'], envelope.result!['rolledBack']], ['refused', true]);
      assert.ok(envelope.findings.some((f) => f.id === 'mount.read-only' && f.severity === 'error'));
      assert.deepEqual(mountsAtMerged(ns), [], 'rolled back');
    });

    it('a work dir inside the upper layer: MOUNT_SETUP_LAYOUT, nothing created', () => {
      const upper = path.join(fixture.dir, 'layers4', 'upper');
      const { code, envelope } = cli(['mount', '--config', config('nested', { workDir: path.join(upper, 'work') }, upper)], ns);
      assert.deepEqual([code, envelope.error?.code], [1, 'MOUNT_SETUP_LAYOUT']);
      assert.equal(fs.existsSync(upper), false);
    });
  });

  /** The `store` value Nix 2.8 reads from a nix.conf holding `text` (its own parser; an unknown setting fails the call). */
  function nixStoreSetting(text: string): string {
    const confDir = fs.mkdtempSync(path.join(fixture.dir, 'nix-conf-'));
    fs.writeFileSync(path.join(confDir, 'nix.conf'), text);
    const env = nixEnv({ HOME: confDir, NIX_CONF_DIR: confDir });
    const result = spawnSync('nix', ['--extra-experimental-features', 'nix-command', 'show-config'], { env, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /unknown setting/, 'every line is a setting Nix knows');
    const line = result.stdout.split('\n').find((l) => l.startsWith('store = '));
    assert.ok(line !== undefined, result.stdout);
    return line.slice('store = '.length);
  }
});
