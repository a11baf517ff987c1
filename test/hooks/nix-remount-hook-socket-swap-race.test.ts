/**
 * The attack on hooks/nix-remount-hook that once ran an attacker's program as root: the control socket's directory
 * is reached through a directory uid 65534 owns, and an attacker process running as uid 65534 swaps it, thousands of
 * times, between the agent's real root-only directory and one of its own holding a fake socket and a `node`. Nix's
 * hooks run meanwhile, from a checkout (with its own Node) and from an installation without one. Not one hook may
 * run the attacker's `node` or talk to either socket: the way to the socket is not trusted, so every run remounts
 * directly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AS_NOBODY } from '../support/as-nobody.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';
import { waitFor } from '../support/wait-for.ts';

const HOOKS = fileURLToPath(new URL('../../hooks/', import.meta.url));
const MIN_SWAPS = 2000;
const MIN_HOOK_RUNS = 20;

/**
 * The attacker, run as uid 65534: a fake agent socket and a `node` that leaves `nodeRan` behind, in a directory of
 * its own; then `run` (the socket's directory) swapped back and forth between that directory and the real one, by
 * atomic renames of a symlink, yielding between batches so its socket can record connections. Prints the swap count
 * every 100 swaps.
 */
const ATTACKER = `
import fs from 'node:fs';
import net from 'node:net';
const { att, real, nodeRan, connected } = JSON.parse(process.env.RACE);
const evil = att + '/evil';
fs.mkdirSync(evil);
fs.writeFileSync(evil + '/node', '#!/bin/sh\\necho "$0 $*" >> ' + JSON.stringify(nodeRan) + '\\nexit 1\\n', { mode: 0o755 });
net.createServer((c) => { fs.appendFileSync(connected, 'connected\\n'); c.destroy(); }).listen(evil + '/control.sock', () => {
  let swaps = 0;
  const batch = () => {
    for (let i = 0; i < 100; i++) {
      fs.symlinkSync(swaps % 2 === 0 ? evil : real, att + '/run.next');
      fs.renameSync(att + '/run.next', att + '/run');
      swaps++;
    }
    process.stdout.write(swaps + '\\n');
    setImmediate(batch);
  };
  batch();
});
`;

describe('hooks/nix-remount-hook against a socket directory swapped by uid 65534', function () {
  let base: string;
  let agent: Server | undefined;

  before(function () {
    requireRoot(this);
    requireCommand(this, 'setpriv');
    base = mkdtempSync(join(tmpdir(), 'ow-hook-race-'));
    chmodSync(base, 0o755);
  });
  after(async () => {
    await new Promise((resolve) => (agent === undefined ? resolve(undefined) : agent.close(resolve)));
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  it(`never runs the planted node nor talks to a socket there, over at least ${MIN_SWAPS} swaps`, async () => {
    const att = join(base, 'att');
    mkdirSync(att, { mode: 0o755 });
    chownSync(att, 65534, 65534);
    // The agent's real directory, root only, with a socket that records every connection.
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    let agentConnections = 0;
    agent = createServer((c) => {
      agentConnections++;
      c.destroy();
    });
    await new Promise<void>((resolve) => agent!.listen(join(real, 'control.sock'), resolve));
    const nodeRan = join(base, 'planted-node-ran');
    const connected = join(att, 'connected');
    // An installation with the sources but no Node of its own, as the old hook's fallback to a node beside the socket served.
    const install = join(base, 'install');
    mkdirSync(join(install, 'hooks'), { recursive: true });
    for (const file of ['remount', 'nix-remount-hook']) copyFileSync(join(HOOKS, file), join(install, 'hooks', file));
    symlinkSync(join(HOOKS, '..', 'agent'), join(install, 'agent'));
    const hooks = [join(HOOKS, 'nix-remount-hook'), join(install, 'hooks', 'nix-remount-hook')];
    // Not a mount point: the direct remount stops at once (hooks/remount's 65), touching nothing.
    const merged = join(base, 'merged');
    mkdirSync(merged);

    const [setpriv, ...dropArgs] = AS_NOBODY;
    const attacker = spawn(setpriv, [...dropArgs, process.execPath, '--input-type=module', '-e', ATTACKER], {
      cwd: '/',
      env: { PATH: process.env['PATH'], RACE: JSON.stringify({ att, real, nodeRan, connected }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let swaps = 0;
    let attackerErr = '';
    attacker.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const count of chunk.split('\n').map(Number)) if (Number.isInteger(count) && count > swaps) swaps = count;
    });
    attacker.stderr.setEncoding('utf8').on('data', (chunk: string) => (attackerErr += chunk));
    const alive = (): boolean => attacker.exitCode === null && attacker.signalCode === null;
    try {
      await waitFor(() => swaps > 0 || !alive(), 'the attacker to start swapping');
      assert.ok(alive(), `the attacker could not start: ${attackerErr}`);
      let runs = 0;
      while (swaps < MIN_SWAPS || runs < MIN_HOOK_RUNS) {
        assert.ok(alive(), `the attacker stopped: ${attackerErr}`);
        const hook = hooks[runs % hooks.length]!;
        const run = await runHook(hook, merged, { PATH: process.env['PATH'], OVERLAY_WARDEN_SOCKET: join(att, 'run', 'control.sock') });
        runs++;
        assert.equal(run.status, 65, `run ${runs} of ${hook}: ${run.stderr}`);
        assert.match(run.stderr, /not asking the agent on .*\/att\/run\/control\.sock: .*\/att is owned by uid 65534/, `run ${runs}`);
        assert.equal(existsSync(nodeRan), false, `run ${runs}: the planted node ran as root`);
      }
      const swapsSeen = swaps;
      assert.ok(swapsSeen >= MIN_SWAPS, `${swapsSeen} swaps`);
      assert.equal(existsSync(connected), false, "a hook talked to the attacker's socket");
      assert.equal(agentConnections, 0, "a hook talked to the agent's socket through a way the attacker controls");
    } finally {
      attacker.kill('SIGKILL');
    }
  });
});

/** Runs `hook MERGED` without blocking this process (whose socket must be able to record a connection). */
function runHook(hook: string, merged: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(hook, [merged], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}
