/**
 * deploy/container/: the image is built from its Containerfile (buildah, on a local Node 24 base made from the shared
 * Debian root), holds what `run` needs and nothing of the development tree, and runs as the store sidecar of a pod:
 * beside a workload that shares the store volume with the propagation Kubernetes gives (sidecar Bidirectional,
 * workload HostToContainer), the sidecar mounts the overlay, the workload sees it and uses it with Nix, a path added
 * to the lower store is seen as drift, the sidecar remounts, and the workload sees the new path. The pod lives in a
 * private mount namespace of the test; nothing it mounts reaches the host.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentChild, driftLine, remountLine, WATCHING } from '../support/agent-child.ts';
import { buildAppImage, imageConfig, nodeBaseImage, removeImage, requireContainerImages, run, type ImageConfig } from '../support/container-images.ts';
import { ROOT } from '../support/built-dist.ts';
import { freePort } from '../support/free-port.ts';
import { MountNamespace } from '../support/mount-namespace.ts';
import { NIX_TEST_CONF, runNix } from '../support/nix-kit.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { containerArgv, execInContainer, requirePodSandbox, type Volume } from '../support/pod-sandbox.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Where the pod's containers see the volumes: the same paths in both, so the store settings mean the same thing in
 * each. The store volume is /nix (the merged store dir /nix/store, Nix's state /nix/var/nix, the upper layer and work
 * dir under /nix/.overlay, one filesystem); the lower store is a read-only volume at /lower.
 */
const NIX = '/nix';
const LOWER = '/lower';
const UPPER = `${NIX}/.overlay/upper`;
const WORK = `${NIX}/.overlay/work`;
const STORE_URL = `local-overlay://?lower-store=${encodeURIComponent(LOWER)}&upper-layer=${UPPER}`;
const APP_DIR = '/opt/overlay-warden';

interface Pod {
  readonly dir: string;
  /** The path the lower store held before the pod started. */
  readonly lowerFirst: string;
  readonly ns: MountNamespace;
  readonly containers: { name: string; rootfs: string }[];
  sidecar?: AgentChild;
  workload?: ChildProcess;
}

describe('deploy/container: the image, and the sidecar beside a workload', function () {
  let image: string | undefined;
  let config: ImageConfig;
  let base: string;
  let pod: Pod | undefined;
  let port: number;
  let lowerFirst: string;
  let lowerSecond: string;

  /** Runs a shell script in the workload container (as `podman exec`; Nix reads the kit's nix.conf from /etc/nix there); returns stdout. */
  const inWorkload = (script: string): string => {
    const result = spawnSync(
      execInContainer(pod!.workload!.pid!)[0]!,
      [
        ...execInContainer(pod!.workload!.pid!).slice(1),
        '/usr/bin/env',
        '-i',
        'PATH=/usr/bin:/bin',
        'HOME=/root',
        'NIX_CONF_DIR=/etc/nix',
        'sh',
        '-euc',
        script,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(result.status, 0, `in the workload: ${script}\n${result.stderr}`);
    return result.stdout;
  };

  before(async function () {
    // A safety net, not a measure: a cold base image and build take 1-2 minutes on a loaded 2-core machine.
    this.timeout(600_000);
    requireContainerImages(this);
    requireNixOverlayFixture(this);
    requirePodSandbox(this);
    const baseStarted = Date.now();
    base = await nodeBaseImage();
    console.log(`      node base image ${base} ready in ${((Date.now() - baseStarted) / 1000).toFixed(1)} s`);
    const built = await buildAppImage(base, `localhost/overlay-warden-test-app:${process.pid}`);
    image = built.name;
    console.log(`      built ${image} in ${built.seconds.toFixed(1)} s`);
    config = await imageConfig(image);
    port = await freePort();
    pod = await startPod(image, base, port);
    lowerFirst = pod.lowerFirst;
    await pod.sidecar!.waitForLog((l) => WATCHING.test(l.message), 'the sidecar to start watching');
  });

  after(async function () {
    if (pod !== undefined) await stopPod(pod);
    if (image !== undefined) await removeImage(image);
  });

  it('holds node_modules with production dependencies only, dist/, hooks/, config/ and package.json', function () {
    const app = path.join(`/proc/${pod!.sidecar!.pid}/root`, APP_DIR);
    assert.deepEqual(fs.readdirSync(app).sort(), ['config', 'dist', 'hooks', 'node_modules', 'package.json']);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: object; devDependencies: object };
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const installed = Object.keys(lock.packages).filter((key) => key !== '' && fs.existsSync(path.join(app, key)));
    assert.deepEqual(
      installed.filter((key) => lock.packages[key]!.dev === true),
      [],
      'no package the lockfile marks dev-only',
    );
    const topLevel = fs
      .readdirSync(path.join(app, 'node_modules'))
      .filter((entry) => entry !== '.bin')
      .flatMap((entry) => {
        // A scope's packages; an empty scope dir (what `npm prune` leaves of a dev scope) is reported as itself.
        const scoped = entry.startsWith('@') ? fs.readdirSync(path.join(app, 'node_modules', entry)).map((sub) => `${entry}/${sub}`) : [];
        return scoped.length === 0 ? [entry] : scoped;
      })
      .map((entry) => `node_modules/${entry}`);
    assert.deepEqual(
      topLevel.filter((key) => lock.packages[key] === undefined || lock.packages[key]!.dev === true),
      [],
      'everything in node_modules is a production package of the lockfile',
    );
    for (const name of Object.keys(pkg.devDependencies)) assert.equal(fs.existsSync(path.join(app, 'node_modules', name)), false, name);
    for (const name of Object.keys(pkg.dependencies)) assert.ok(fs.existsSync(path.join(app, 'node_modules', name, 'package.json')), name);
    // The `node` devDependency's own Node binary (126 MB) is not there; the hook's node is the image's.
    assert.deepEqual(fs.readdirSync(path.join(app, 'node_modules', '.bin')), ['node']);
    assert.equal(fs.readlinkSync(path.join(app, 'node_modules', '.bin', 'node')), '/usr/local/bin/node');
  });

  it('holds no TypeScript sources and no tests of the project', function () {
    const app = path.join(`/proc/${pod!.sidecar!.pid}/root`, APP_DIR);
    const own = fs
      .readdirSync(app, { recursive: true })
      .map(String)
      .filter((file) => !file.startsWith('node_modules'));
    assert.deepEqual(
      own.filter((file) => /\.(c|m)?ts$/.test(file) || /(^|\/)test(s)?(\/|$)/.test(file) || file.endsWith('.test.js')),
      [],
    );
    assert.ok(own.includes('dist/agent/cli/main.js'));
    assert.ok(own.includes('hooks/remount') && own.includes('hooks/nix-remount-hook'));
  });

  it('runs overlay-warden as root with the entrypoint and command the Containerfile gives', function () {
    assert.deepEqual(config.Entrypoint, ['node', `${APP_DIR}/dist/agent/cli/main.js`]);
    assert.deepEqual(config.Cmd, ['run', '--mount']);
    assert.equal(config.User, '0:0');
    assert.ok(config.Healthcheck !== undefined, 'the HEALTHCHECK is in the image (docker format)');
  });

  it('the sidecar mounts the overlay and the workload sees it through the shared volume', async function () {
    const mounted = await pod!.sidecar!.waitForLog((l) => l.message.startsWith('--mount: mounted the store overlay'), 'run --mount to mount');
    assert.equal(mounted['mergedStoreDir'], '/nix/store');
    // The store volume starts empty, as an emptyDir does: the upper layer and work dir are made in it.
    const created = mounted['created'] as string[];
    assert.ok(created.includes(`${UPPER}`) && created.includes(`${WORK}`), JSON.stringify(created));
    const sidecarMount = overlayAt(pod!.sidecar!.pid, '/nix/store');
    assert.ok(sidecarMount !== undefined, 'the overlay is mounted in the sidecar');
    assert.match(sidecarMount.optional, /shared:\d+/, 'the sidecar holds it in a shared peer group (Bidirectional)');
    const workloadMount = overlayAt(pod!.workload!.pid!, '/nix/store');
    assert.ok(workloadMount !== undefined, 'the mount reached the workload, which existed before it was made');
    assert.match(workloadMount.optional, /master:\d+/, 'the workload receives it as a slave (HostToContainer)');
    assert.match(workloadMount.options, new RegExp(`(^|,)lowerdir=${LOWER}/nix/store,upperdir=${UPPER},workdir=${WORK}(,|$)`));
    assert.equal(inWorkload(`cat ${lowerFirst}`), 'lower store, first\n');
  });

  it('the workload uses the store with Nix: a path it adds lands in the upper layer', function () {
    const added = inWorkload(`echo from the workload > /tmp/workload-file; nix-store --add /tmp/workload-file`).trim();
    assert.match(added, /^\/nix\/store\/[0-9a-z]{32}-workload-file$/);
    assert.equal(fs.readFileSync(path.join(pod!.dir, 'shared', '.overlay', 'upper', path.basename(added)), 'utf8'), 'from the workload\n');
    assert.equal(inWorkload(`nix-store --verify-path ${added} && echo valid`), 'valid\n');
  });

  it('a path added to the lower store: the sidecar sees the drift and remounts', async function () {
    const sidecar = pod!.sidecar!;
    const from = sidecar.log.length;
    lowerSecond = addToLower(pod!.dir, 'second');
    const drift = await sidecar.waitForLog(driftLine('lower-grew'), 'the lower-grew drift', { from });
    assert.deepEqual(drift['paths'], [lowerSecond]);
    const verified = await sidecar.waitForLog(remountLine('remount-verified'), 'the remount to be verified', { from });
    assert.equal(verified['fresh'], true, sidecar.describe());
    const status = await waitFor(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
          result: { remount: { phase: string; lastOutcome?: { status: string } } };
        };
        return body.result.remount.phase === 'idle' && body.result.remount.lastOutcome !== undefined ? body.result : undefined;
      },
      'the remount outcome on /status',
      { intervalMs: 100, describe: () => sidecar.describe() },
    );
    assert.equal(status.remount.lastOutcome!.status, 'remounted');
  });

  it('the workload sees the new view: the new lower path through the merged dir', function () {
    assert.equal(inWorkload(`cat ${lowerSecond}`), 'lower store, second\n');
  });

  it('mount --print-nix-conf in the sidecar prints the store setting for the workload', function () {
    const printed = spawnSync(
      execInContainer(pod!.sidecar!.pid)[0]!,
      [...execInContainer(pod!.sidecar!.pid).slice(1), '/usr/bin/env', '-i', ...config.Env!, 'overlay-warden', 'mount', '--print-nix-conf'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(printed.status, 0, printed.stderr);
    const store = /^store = (local-overlay:\/\/\?.*)$/m.exec(printed.stdout)?.[1];
    assert.ok(store !== undefined, printed.stdout);
    const params = new URLSearchParams(store.slice(store.indexOf('?') + 1));
    assert.ok([null, '/'].includes(params.get('root')), store);
    assert.equal(params.get('upper-layer'), `${UPPER}`);
    assert.equal(params.get('lower-store'), LOWER);
  });

  it("the image's HEALTHCHECK passes against the running sidecar, and fails where no agent answers", async function () {
    const test = config.Healthcheck!.Test;
    assert.equal(test[0], 'CMD');
    const check = (url: string): number | null =>
      spawnSync(
        execInContainer(pod!.sidecar!.pid)[0]!,
        [...execInContainer(pod!.sidecar!.pid).slice(1), '/usr/bin/env', '-i', ...config.Env!, `OVERLAY_WARDEN_HEALTH_URL=${url}`, ...test.slice(1)],
        {
          timeout: 60_000,
        },
      ).status;
    assert.equal(check(`http://127.0.0.1:${port}/healthz`), 0);
    assert.equal(check(`http://127.0.0.1:${await freePort()}/healthz`), 1);
  });

  it("hooks/nix-remount-hook in the sidecar asks the agent, with the image's Node, and the agent remounts", async function () {
    const sidecar = pod!.sidecar!;
    const from = sidecar.log.length;
    const hook = spawnSync(
      execInContainer(sidecar.pid)[0]!,
      [...execInContainer(sidecar.pid).slice(1), '/usr/bin/env', '-i', ...config.Env!, `${APP_DIR}/hooks/nix-remount-hook`, '/nix/store'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(hook.status, 0, hook.stderr);
    assert.doesNotMatch(hook.stderr, /directly/, 'it did not fall back to remounting by itself');
    const verified = await sidecar.waitForLog(remountLine('remount-verified'), 'the requested remount to be verified', { from });
    assert.equal(verified['fresh'], true, sidecar.describe());
  });

  it('SIGTERM stops the sidecar cleanly and leaves the overlay to the workload', async function () {
    const exit = await pod!.sidecar!.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, pod!.sidecar!.describe());
    assert.ok(overlayAt(pod!.workload!.pid!, '/nix/store') !== undefined, 'the workload still has the overlay');
    assert.equal(inWorkload(`cat ${lowerSecond}`), 'lower store, second\n');
  });
});

/** Adds a file (`lower store, WHICH`) to the pod's lower store with real Nix, as a lower store's owner would; returns its store path. */
function addToLower(dir: string, which: string): string {
  const content = path.join(dir, `lower-${which}`);
  fs.writeFileSync(content, `lower store, ${which}\n`);
  return runNix('nix-store', ['--store', path.join(dir, 'lower'), '--add', content]).trim();
}

/** The top overlay mount at `mountPoint` in the mount namespace of `pid`: its super options and optional fields (propagation). */
function overlayAt(pid: number, mountPoint: string): { options: string; optional: string } | undefined {
  let found: { options: string; optional: string } | undefined;
  for (const line of fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right === undefined) continue;
    const fields = left!.split(' ');
    const [fstype, , options] = right.split(' ');
    if (fields[4] === mountPoint && fstype === 'overlay') found = { options: options!, optional: fields.slice(6).join(' ') };
  }
  return found;
}

/** A working container of `image`, mounted in the pod's namespace (so its rootfs mount goes when the pod does). */
async function mountedContainer(ns: MountNamespace, image: string, containers: Pod['containers']): Promise<string> {
  const name = (await run('buildah', ['from', '--pull-never', image])).trim();
  const mounted = ns.inside(['buildah', 'mount', name]);
  assert.equal(mounted.status, 0, mounted.stderr);
  const rootfs = mounted.stdout.trim();
  containers.push({ name, rootfs });
  return rootfs;
}

/**
 * The pod: its mount namespace with the store volume a shared mount (as the kubelet makes a volume that a
 * Bidirectional mount uses), the lower store made with real Nix, the workload (the base image: Debian with Nix 2.8)
 * started first, then the sidecar from the image with CAP_SYS_ADMIN and its configuration.
 */
async function startPod(image: string, base: string, port: number): Promise<Pod> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-pod-'));
  for (const sub of ['lower', 'shared', 'config', 'state', 'nix-conf']) fs.mkdirSync(path.join(dir, sub), { mode: 0o700 });
  const lowerFirst = addToLower(dir, 'first');
  fs.writeFileSync(path.join(dir, 'nix-conf', 'nix.conf'), NIX_TEST_CONF);
  const settings = {
    store: { url: STORE_URL },
    http: { address: `127.0.0.1:${port}` },
    log: { level: 'info', format: 'json' },
    remount: { coalesceMs: 200, backoffSeconds: 0.1 },
  };
  fs.writeFileSync(path.join(dir, 'config', 'overlay-warden.yaml'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  const shared = path.join(dir, 'shared');
  const ns = await MountNamespace.open({ setup: 'mount --bind "$1" "$1"\nmount --make-shared "$1"', args: [shared] });
  const pod: Pod = { dir, lowerFirst, ns, containers: [] };
  try {
    const workloadRoot = await mountedContainer(ns, base, pod.containers);
    const sidecarRoot = await mountedContainer(ns, image, pod.containers);
    const baseConfig = await imageConfig(base);
    const workloadVolumes: Volume[] = [
      { host: shared, path: NIX, propagation: 'HostToContainer' },
      // A local-overlay store opens its lower store too (Nix 2.8's plain local store here does not need it).
      { host: path.join(dir, 'lower'), path: LOWER, propagation: 'HostToContainer', readOnly: true },
      { host: path.join(dir, 'nix-conf'), path: '/etc/nix', propagation: 'None', readOnly: true },
    ];
    const workloadArgv = containerArgv({
      rootfs: workloadRoot,
      volumes: workloadVolumes,
      env: baseConfig.Env ?? [],
      workingDir: '/',
      argv: ['sh', '-c', 'echo ready; exec cat >/dev/null'],
    });
    pod.workload = spawn(ns.nsenter[0]!, [...ns.nsenter.slice(1), ...workloadArgv], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      pod.workload!.stdout!.once('data', () => resolve());
      pod.workload!.once('exit', (code) => reject(new Error(`the workload container exited (${String(code)}) before it was ready`)));
    });
    const config = await imageConfig(image);
    const sidecarVolumes: Volume[] = [
      { host: shared, path: NIX, propagation: 'Bidirectional' },
      { host: path.join(dir, 'lower'), path: LOWER, propagation: 'HostToContainer', readOnly: true },
      { host: path.join(dir, 'config'), path: '/etc/overlay-warden', propagation: 'None', readOnly: true },
      { host: path.join(dir, 'state'), path: '/var/lib/overlay-warden', propagation: 'None' },
    ];
    const sidecarArgv = containerArgv({
      rootfs: sidecarRoot,
      volumes: sidecarVolumes,
      addCaps: ['sys_admin'],
      env: config.Env ?? [],
      workingDir: config.WorkingDir,
      argv: [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])],
    });
    pod.sidecar = new AgentChild([...ns.nsenter, ...sidecarArgv], { PATH: process.env['PATH'] });
    return pod;
  } catch (error) {
    await stopPod(pod);
    throw error;
  }
}

/** Stops the sidecar (SIGTERM, as the kubelet does) and the workload, unmounts the rootfs, ends the namespace, removes the containers. */
async function stopPod(pod: Pod): Promise<void> {
  await pod.sidecar?.stop().catch(() => pod.sidecar?.kill());
  if (pod.workload !== undefined && pod.workload.exitCode === null) {
    const exited = new Promise((resolve) => pod.workload!.once('exit', resolve));
    pod.workload.kill('SIGKILL');
    await exited;
  }
  for (const c of pod.containers) pod.ns.inside(['buildah', 'umount', c.name]);
  await pod.ns.close();
  for (const c of pod.containers) await run('buildah', ['rm', c.name]).catch(() => undefined);
  fs.rmSync(pod.dir, { recursive: true, force: true });
}
