/**
 * The lower daemon watcher against real sockets: a real Nix 2.8 daemon (paths added and deleted by real Nix while it
 * serves the store, the daemon killed and restarted on the same socket), and fake peers that hang or answer garbage.
 * Its reconnect schedule is driven by injected timers, so nothing waits for a backoff or asserts on elapsed time.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LowerDaemonWatcher, type DriftEvent, type WatcherHealthEvent, type WatcherTimers } from '../../agent/watch/index.ts';
import { startNixDaemon, type RunningNixDaemon } from '../support/nix-daemon.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand, requireNix, requireRoot } from '../support/requirements.ts';
import { socketServer } from '../support/fake-daemon-peer.ts';

/** Timers that only fire when the test says so; each scheduled delay is recorded. */
class ManualTimers implements WatcherTimers {
  readonly delays: number[] = [];
  #pending: { callback: () => void; ms: number } | undefined;

  setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    const handle = { callback, ms };
    this.#pending = handle;
    return handle;
  }

  clearTimeout(handle: unknown): void {
    if (handle === this.#pending) this.#pending = undefined;
  }

  get pending(): boolean {
    return this.#pending !== undefined;
  }

  /** Fires the scheduled poll now. */
  fire(): void {
    const pending = this.#pending;
    assert.ok(pending, 'a poll is scheduled');
    this.#pending = undefined;
    pending.callback();
  }
}

/** Everything a watcher emitted. */
function record(watcher: LowerDaemonWatcher): { drift: DriftEvent[]; health: WatcherHealthEvent[] } {
  const out = { drift: [] as DriftEvent[], health: [] as WatcherHealthEvent[] };
  watcher.on('drift', (e) => out.drift.push(e));
  watcher.on('health', (e) => out.health.push(e));
  return out;
}

/** A u64 little-endian, as the worker protocol frames numbers. */
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

describe('watch/daemon-watcher: a nix-daemon lower store', function () {
  let work: string;
  before(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-daemon-watch-'))));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  describe('fake peers: every failure is a typed error in its health and status, and the watcher keeps polling', () => {
    const cases: Array<{ name: string; code: string; serve: ((conn: net.Socket) => void) | undefined }> = [
      { name: 'nothing listens on the socket', code: 'DAEMON_CONNECT_FAILED', serve: undefined },
      { name: 'a peer that answers a wrong magic number', code: 'DAEMON_BAD_MAGIC', serve: (conn) => conn.write(u64(0x12345678)) },
      { name: 'a peer that answers garbage', code: 'DAEMON_BAD_FRAME', serve: (conn) => conn.write(Buffer.alloc(64, 0x41)) },
      { name: 'a peer that never answers', code: 'DAEMON_TIMED_OUT', serve: () => undefined },
      { name: 'a peer that closes mid-message', code: 'DAEMON_CLOSED', serve: (conn) => conn.end(Buffer.alloc(3)) },
    ];
    for (const c of cases) {
      it(`${c.name} → down with ${c.code}, then the next attempt is scheduled`, async () => {
        const socket = path.join(work, `${c.code}.sock`);
        const server = c.serve === undefined ? undefined : await socketServer(socket, c.serve);
        const timers = new ManualTimers();
        const watcher = new LowerDaemonWatcher({ socket, storeDir: '/nix/store', pollMs: 30_000, timeoutMs: 300, initial: null, timers, random: () => 1 });
        const seen = record(watcher);
        try {
          await watcher.start();
          assert.equal(seen.health.length, 1);
          const down = seen.health[0]!;
          assert.equal(down.type, 'watcher-down');
          assert.equal(down.watcher, 'lower-daemon');
          assert.equal(down.target, socket);
          assert.ok(down.type === 'watcher-down' && down.reason === 'unavailable' && down.detail?.startsWith(`${c.code}: `), JSON.stringify(down));
          const status = watcher.status();
          assert.equal(status.state, 'down');
          assert.equal(status.lastError?.code, c.code);
          assert.match(status.lastError?.message ?? '', new RegExp(socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the error names the socket');
          assert.equal(status.failures, 1);
          assert.ok(timers.pending, 'a reconnect is scheduled');
          assert.deepEqual(timers.delays, [500]);
          assert.deepEqual(seen.drift, []);
        } finally {
          await watcher.close();
          await server?.close();
        }
      });
    }
  });

  describe('a real Nix 2.8 daemon serving a store built with real Nix', function () {
    let root: string;
    let daemon: RunningNixDaemon;
    let added: string;

    before(async function () {
      requireRoot(this);
      requireNix(this);
      requireCommand(this, 'nix-daemon');
      root = path.join(work, 'root');
      const src = path.join(work, 'src');
      fs.mkdirSync(src);
      fs.writeFileSync(path.join(src, 'one'), 'one\n');
      runNix('nix-store', ['--store', root, '--add', src]);
      daemon = await startNixDaemon(root, work);
    });
    after(async () => {
      await daemon?.kill();
    });

    it('reads its identity; a path added and one deleted by real Nix are lower-daemon-modified; killed → down, backoff doubles; restarted → up, and the gap reported', async () => {
      const timers = new ManualTimers();
      const watcher = new LowerDaemonWatcher({
        socket: daemon.socket,
        storeDir: '/nix/store',
        pollMs: 30_000,
        timeoutMs: 20_000,
        initial: null,
        timers,
        random: () => 1,
      });
      const seen = record(watcher);
      // Read through a function: assertions narrow a property read directly.
      const state = (): string => watcher.health.state;
      try {
        await watcher.start();
        assert.equal(state(), 'up');
        assert.equal(seen.health.length, 0, 'the first answer is no news');
        const first = watcher.identity!;
        assert.equal(first.validPaths, 1);
        assert.equal(first.protocol.startsWith('1.'), true);
        assert.equal(watcher.status().nixVersion?.startsWith('2.8'), true);
        assert.deepEqual(timers.delays, [30_000], 'next poll after pollMs');

        // A path registered while the daemon serves the store.
        const more = path.join(work, 'more');
        fs.mkdirSync(more);
        fs.writeFileSync(path.join(more, 'two'), 'two\n');
        added = runNix('nix-store', ['--store', root, '--add', more]).trim();
        timers.fire();
        await watcher.poll();
        assert.equal(seen.drift.length, 1);
        const grew = seen.drift[0]!;
        assert.ok(grew.type === 'lower-daemon-modified');
        assert.equal(grew.before.validPaths, 1);
        assert.equal(grew.after.validPaths, 2);
        assert.equal(grew.source, 'watch');

        // Nothing changed: no event.
        timers.fire();
        await watcher.poll();
        assert.equal(seen.drift.length, 1);

        // Deleted again.
        runNix('nix-store', ['--store', root, '--delete', added]);
        timers.fire();
        await watcher.poll();
        assert.equal(seen.drift.length, 2);
        const shrank = seen.drift[1]!;
        assert.ok(shrank.type === 'lower-daemon-modified' && shrank.after.validPaths === 1);
        assert.equal(shrank.after.digest, first.digest, 'the same set as at first');

        // The daemon killed: down with its error, the reconnect backing off.
        await daemon.kill();
        const before = timers.delays.length;
        for (let i = 0; i < 3; i++) {
          timers.fire();
          await watcher.poll();
        }
        assert.equal(state(), 'down');
        assert.equal(seen.health.filter((e) => e.type === 'watcher-down').length, 1, 'one watcher-down per outage');
        assert.match(watcher.status().lastError?.code ?? '', /^DAEMON_(CONNECT_FAILED|CLOSED)$/);
        assert.deepEqual(timers.delays.slice(before), [500, 1000, 2000]);
        assert.equal(watcher.status().failures, 3);

        // A path added while it is down; then the daemon restarted on the same socket.
        added = runNix('nix-store', ['--store', root, '--add', more]).trim();
        // The killed daemon left its socket file: startNixDaemon waits for the new one to appear.
        fs.rmSync(daemon.socket, { force: true });
        daemon = await startNixDaemon(root, work);
        timers.fire();
        await watcher.poll();
        assert.equal(state(), 'up');
        assert.deepEqual(
          seen.health.map((e) => e.type),
          ['watcher-down', 'watcher-up'],
        );
        assert.equal(seen.drift.length, 3, 'the path added meanwhile');
        assert.ok(seen.drift[2]!.type === 'lower-daemon-modified' && seen.drift[2]!.after.validPaths === 2);
        assert.equal(watcher.status().failures, 0);
        assert.equal(timers.delays.at(-1), 30_000, 'back to the poll interval');
        assert.equal(watcher.status().lastError?.code !== undefined, true, 'the last error stays on record');
      } finally {
        await watcher.close();
      }
      assert.equal(timers.pending, false, 'closed: nothing scheduled');
    });
  });
});
