/** The demo's nix-daemon: Nix's own, on the demo store, with its own nix.conf; stopped with its workers. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoStore, childPids, DemoStoreError, demoDaemonEnv, startDemoDaemon } from '../../agent/demo/index.ts';
import { connectDaemon } from '../../agent/store/index.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

describe('demo nix-daemon', function () {
  this.timeout(60_000);

  it('its environment: none of Nix store or config variables of ours, its own nix.conf dir and socket (pure)', () => {
    const env = demoDaemonEnv(
      { PATH: '/bin', NIX_REMOTE: 'daemon', NIX_CONFIG: 'x', NIX_STORE_DIR: '/s', NIX_USER_CONF_FILES: '/u', NIX_DAEMON_SOCKET_PATH: '/other.sock' },
      '/d/nix-conf',
      '/d/daemon.sock',
    );
    assert.deepEqual(env, {
      PATH: '/bin',
      NIX_CONF_DIR: '/d/nix-conf',
      NIX_USER_CONF_FILES: '/d/nix-conf/no-user-nix.conf',
      NIX_DAEMON_SOCKET_PATH: '/d/daemon.sock',
    });
  });

  describe('a real one (Nix 2.8)', () => {
    let dir = '';
    before(function () {
      requireRoot(this);
      requireCommand(this, 'nix-daemon');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-demo-daemon-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("serves the demo store (the builder's on-disk formats) and stops, workers and socket included", async () => {
      const store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 12, upperPaths: 2 });
      const daemon = await startDemoDaemon(store.lower.root, dir, { env: process.env, signal: new AbortController().signal });
      assert.equal(fs.readFileSync(path.join(dir, 'nix-conf', 'nix.conf'), 'utf8'), 'build-users-group =\n');
      assert.match(daemon.hello.nixVersion ?? '', /^2\.8/);
      // What the daemon serves is what the demo's DB registers.
      const client = await connectDaemon(daemon.socket, { timeoutMs: 10_000 });
      try {
        assert.deepEqual(await client.queryAllValidPaths(), [...store.lower.paths].sort());
        // The open connection has a worker of its own.
        assert.ok(childPids(daemon.pid).length >= 1);
        const workers = childPids(daemon.pid);
        await daemon.stop();
        await daemon.stop(); // idempotent
        for (const pid of [daemon.pid, ...workers]) assert.equal(alive(pid), false, `pid ${pid} still runs`);
        assert.equal(fs.existsSync(daemon.socket), false);
      } finally {
        client.close();
      }
    });

    it('a daemon that cannot serve its root: DEMO_NIX_DAEMON_FAILED with its output, and nothing left running', async () => {
      const root = path.join(dir, 'not-a-dir');
      fs.writeFileSync(root, '');
      const before = childPids(process.pid);
      await assert.rejects(
        startDemoDaemon(root, fs.mkdtempSync(path.join(dir, 'd-')), { env: process.env, signal: new AbortController().signal }),
        (error: unknown) => error instanceof DemoStoreError && error.code === 'DEMO_NIX_DAEMON_FAILED' && /is not a directory/.test(error.message),
      );
      assert.deepEqual(childPids(process.pid), before);
    });
  });
});

/** True while `pid` runs (a zombie counts as gone: it runs nothing). */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
