import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remountHandler, startControlServer, type ControlServer } from '../../agent/control/index.ts';
import { Remounter } from '../../agent/remount/index.ts';
import { requireMountNamespaces } from '../support/requirements.ts';
import { createStaleOverlay, type StaleOverlay } from '../support/stale-overlay.ts';

const HOOKS = fileURLToPath(new URL('../../hooks/', import.meta.url));
describe('hooks/nix-remount-hook', function () {
  let root: string;
  let n = 0;
  let dir: string;
  let overlay: StaleOverlay | undefined;
  let server: ControlServer | undefined;
  let remounter: Remounter | undefined;

  before(function () {
    requireMountNamespaces(this);
    root = mkdtempSync(join(tmpdir(), 'ow-nix-hook-'));
  });
  after(() => root !== undefined && rmSync(root, { recursive: true, force: true }));
  beforeEach(async () => {
    dir = join(root, String(++n));
    mkdirSync(dir, { mode: 0o700 });
    overlay = await createStaleOverlay(dir);
    assert.equal(overlay.served(), 'upper', 'the view should be stale before the hook runs (see DOMAIN.md)');
  });
  afterEach(async () => {
    await server?.close();
    await remounter?.close();
    await overlay?.ns.close();
    server = remounter = overlay = undefined;
  });

  /** An agent's control socket with a real Remounter whose command remounts inside the namespace via hooks/remount. */
  async function startAgent(command: readonly string[], mergedStoreDir = overlay!.merged): Promise<string> {
    const o = overlay!;
    remounter = new Remounter({
      mergedStoreDir,
      stateDir: join(dir, 'state'),
      settings: { command: [...command], timeoutSeconds: 30, attempts: 1, backoffSeconds: 0, coalesceMs: 100 },
      // The check afterwards: fresh when the merged dir serves the lower copy again.
      verifyAfterRemount: async () => ({ fresh: o.served() === 'lower', findings: [] }),
    });
    const socketPath = join(dir, 'run', 'control.sock');
    server = await startControlServer({ socketPath, handlers: { remount: remountHandler(remounter, mergedStoreDir) } });
    return socketPath;
  }

  const hookEnv = (socketPath: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, OVERLAY_WARDEN_SOCKET: socketPath, ...extra });

  /** Runs the hook (in this namespace: it only talks to the agent) without blocking the agent's event loop. */
  function runHook(hook: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(hook, args, { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  it('with an agent: asks it to remount, waits, and reports the checked result', async () => {
    const socketPath = await startAgent([...overlay!.ns.nsenter, join(HOOKS, 'remount')]);
    const run = await runHook(join(HOOKS, 'nix-remount-hook'), [overlay!.merged], hookEnv(socketPath));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /the agent remounted .*merged \(run 1, 1 attempt\); the view is fresh/);
    assert.equal(overlay!.served(), 'lower');
    assert.deepEqual(remounter!.status().lastOutcome?.reasons, [`Nix's remount-hook for ${overlay!.merged}`]);
  });

  it("with an agent whose remount fails: exits 1 with the agent's error", async () => {
    const socketPath = await startAgent(['/bin/false']);
    const run = await runHook(join(HOOKS, 'nix-remount-hook'), [overlay!.merged], hookEnv(socketPath));
    assert.equal(run.status, 1);
    assert.match(run.stderr, /the agent's remount failed after 1 attempt: the remount command \/bin\/false .* exited with status 1/);
    assert.equal(overlay!.served(), 'upper');
  });

  it('without an agent (no socket): remounts directly with hooks/remount', () => {
    const run = overlay!.ns.inside([join(HOOKS, 'nix-remount-hook'), overlay!.merged], { env: hookEnv(join(dir, 'run', 'control.sock')) });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /no agent \(no control socket at .*\); remounting .* directly/);
    assert.equal(overlay!.served(), 'lower');
  });

  it('with a stale socket nobody answers on: remounts directly', () => {
    const socketPath = join(dir, 'stale.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    const run = overlay!.ns.inside([join(HOOKS, 'nix-remount-hook'), overlay!.merged], { env: hookEnv(socketPath) });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /no agent answers on .*ECONNREFUSED[\s\S]*no agent answered for this store; remounting/);
    assert.equal(overlay!.served(), 'lower');
  });

  it('when the agent supervises another store: remounts this one directly', async () => {
    mkdirSync(join(dir, 'other'));
    const socketPath = await startAgent(['/bin/false'], join(dir, 'other'));
    // Inside the namespace (to remount its overlay) but talking to the agent's socket on the shared file system.
    const hook = spawn(overlay!.ns.nsenter[0]!, [...overlay!.ns.nsenter.slice(1), join(HOOKS, 'nix-remount-hook'), overlay!.merged], {
      env: hookEnv(socketPath),
    });
    let stderr = '';
    hook.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise((resolve) => hook.on('close', resolve));
    assert.equal(status, 0, stderr);
    assert.match(stderr, /supervises another store[\s\S]*remounting .* directly/);
    assert.equal(overlay!.served(), 'lower');
    assert.equal(remounter!.counters.requests, 0);
  });

  /**
   * A copy of hooks/ in an installation of its own under `dir`, with `parts` of this checkout linked beside it, and a
   * PATH with the few tools the hooks need and no node. The socket is `socketPath`, or a stale one (nobody answers).
   */
  function isolatedInstallation(parts: readonly string[], socketPath?: string): { install: string; hook: string; bin: string; env: NodeJS.ProcessEnv } {
    const install = join(dir, 'install');
    const hooks = join(install, 'hooks');
    const bin = join(dir, 'bin');
    mkdirSync(hooks, { recursive: true });
    mkdirSync(bin);
    for (const file of ['remount', 'nix-remount-hook']) copyFileSync(join(HOOKS, file), join(hooks, file));
    for (const part of parts) symlinkSync(join(HOOKS, '..', part), join(install, part));
    for (const tool of ['id', 'ls', 'readlink', 'findmnt', 'tail', 'mount'])
      symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
    let socket = socketPath;
    if (socket === undefined) {
      socket = join(dir, 'stale.sock');
      spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    }
    return { install, hook: join(hooks, 'nix-remount-hook'), bin, env: { PATH: bin, OVERLAY_WARDEN_SOCKET: socket } };
  }

  /** An executable `node` at `file` that, if ever run, leaves `marker` behind (and then fails). */
  function plantNode(file: string, marker: string): void {
    writeFileSync(file, `#!/bin/sh\necho "$0 $*" >> '${marker}'\nexit 1\n`, { mode: 0o755 });
  }

  it('with no Node of its installation to ask the agent with: remounts directly', () => {
    // The sources are there, but no node_modules, none on PATH, and no agent's node link.
    const { hook, env } = isolatedInstallation(['agent']);
    const run = overlay!.ns.inside([hook, overlay!.merged], { env });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /no Node.js >= 24 of this installation found to ask the agent with/);
    assert.equal(overlay!.served(), 'lower');
  });

  it('in an installation without the request program (no sources, nothing built): remounts directly', () => {
    const { hook, env } = isolatedInstallation([]);
    const run = overlay!.ns.inside([hook, overlay!.merged], { env });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /this installation has no agent\/control\/remount-request-main to ask the agent with/);
    assert.equal(overlay!.served(), 'lower');
  });

  /** Runs `hook` for the overlay inside its namespace (so a direct remount works) without blocking the agent's event loop. */
  const runHookInNamespace = (hook: string, env: NodeJS.ProcessEnv): ReturnType<typeof runHook> =>
    runHook(overlay!.ns.nsenter[0]!, [...overlay!.ns.nsenter.slice(1), hook, overlay!.merged], env);

  it('run through a symlink: uses the installation the link points into, and asks the agent', async () => {
    const socketPath = await startAgent([...overlay!.ns.nsenter, join(HOOKS, 'remount')]);
    const link = join(dir, 'linked-hook');
    symlinkSync(join(HOOKS, 'nix-remount-hook'), link);
    const run = await runHook(link, [overlay!.merged], hookEnv(socketPath));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /the agent remounted .*merged \(run 1, 1 attempt\); the view is fresh/);
  });

  for (const [what, spoil, reason] of [
    ['owned by uid 65534', (run: string) => chownSync(run, 65534, 65534), /run is owned by uid 65534, not by root or uid 0/],
    ['under a directory others can write (not sticky)', (run: string) => chmodSync(dirname(run), 0o777), /\/\d+ can be written by others \(mode drwxrwxrwx\)/],
  ] as const) {
    it(`does not ask an agent when its socket directory is ${what}: remounts directly`, async () => {
      const socketPath = await startAgent(['/bin/false']);
      spoil(dirname(socketPath));
      const run = await runHookInNamespace(join(HOOKS, 'nix-remount-hook'), hookEnv(socketPath));
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /not asking the agent on .*control\.sock: /);
      assert.match(run.stderr, reason);
      assert.equal(overlay!.served(), 'lower');
      assert.equal(remounter!.counters.requests, 0, 'the agent was never asked');
    });
  }

  it('never runs a node planted beside the socket or on PATH: without a Node of its own installation it remounts directly', async () => {
    const socketPath = await startAgent(['/bin/false']);
    const { hook, bin, env } = isolatedInstallation(['agent'], socketPath);
    const marker = join(dir, 'planted-node-ran');
    // Where the agent used to publish its Node, in the socket's root-only directory: trusted, and still not used.
    plantNode(join(dirname(socketPath), 'node'), marker);
    plantNode(join(bin, 'node'), marker);
    const run = await runHookInNamespace(hook, env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /no Node.js >= 24 of this installation found to ask the agent with/);
    assert.equal(existsSync(marker), false, 'a planted node ran');
    assert.equal(overlay!.served(), 'lower');
    assert.equal(remounter!.counters.requests, 0);
  });

  it("does not run its installation's node when another user owns the way to it: remounts directly", async () => {
    const socketPath = await startAgent(['/bin/false']);
    const { install, hook, env } = isolatedInstallation(['agent'], socketPath);
    const marker = join(dir, 'installed-node-ran');
    mkdirSync(join(install, 'node_modules', '.bin'), { recursive: true });
    plantNode(join(install, 'node_modules', '.bin', 'node'), marker);
    chownSync(join(install, 'node_modules'), 65534, 65534);
    const run = await runHookInNamespace(hook, env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /not running .*node_modules\/\.bin\/node: .*node_modules is owned by uid 65534/);
    assert.equal(existsSync(marker), false);
    assert.equal(overlay!.served(), 'lower');
  });

  for (const [what, spoil, reason] of [
    ['writable by others', (install: string) => chmodSync(join(install, 'hooks'), 0o777), /hooks can be written by others/],
    ['owned by uid 65534', (install: string) => chownSync(install, 65534, 65534), /install is owned by uid 65534/],
  ] as const) {
    it(`refuses to run at all from an installation ${what}: exit 77, nothing remounted`, () => {
      const { install, hook, env } = isolatedInstallation(['agent']);
      spoil(install);
      const run = overlay!.ns.inside([hook, overlay!.merged], { env });
      assert.equal(run.status, 77, run.stderr);
      assert.match(run.stderr, /refusing to run: /);
      assert.match(run.stderr, reason);
      assert.equal(overlay!.served(), 'upper');
    });
  }

  it('refuses bad usage with status 64', () => {
    const run = spawnSync(join(HOOKS, 'nix-remount-hook'), [], { encoding: 'utf8' });
    assert.equal(run.status, 64);
  });
});
