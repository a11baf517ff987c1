import assert from 'node:assert/strict';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectDaemon, WORKER_MAGIC_2 } from '../../../agent/store/daemon/index.ts';
import {
  expectDaemonError,
  fakeDaemon,
  PATH_A,
  STDERR_ERROR,
  STDERR_LAST,
  STDERR_NEXT,
  STDERR_START_ACTIVITY,
  STDERR_STOP_ACTIVITY,
  wire,
  type Peer,
} from '../../support/fake-daemon-peer.ts';

describe('nix-daemon client against a fake peer', function () {
  let dir: string;
  const servers: net.Server[] = [];

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-fake-daemon-'));
  });

  afterEach(function () {
    for (const server of servers.splice(0)) server.close();
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function serve(script: (peer: Peer) => Promise<void>): Promise<string> {
    const fake = await fakeDaemon(dir, script);
    servers.push(fake.server);
    return fake.socket;
  }

  it('no socket: DAEMON_CONNECT_FAILED with a hint', async function () {
    const error = await expectDaemonError(connectDaemon(path.join(dir, 'absent.sock')), 'DAEMON_CONNECT_FAILED', 'connect');
    assert.ok(error.hint);
  });

  it('wrong magic: DAEMON_BAD_MAGIC', async function () {
    const socket = await serve(async (peer) => {
      await peer.u64();
      peer.send(0x12345678, (1 << 8) | 34);
    });
    const error = await expectDaemonError(connectDaemon(socket, { timeoutMs: 5000 }), 'DAEMON_BAD_MAGIC', 'handshake');
    assert.equal(error.evidence['actual'], 0x12345678);
  });

  for (const [label, version] of [
    ['major 2', (2 << 8) | 0],
    ['minor 1.10 (older than Nix 2.3)', (1 << 8) | 10],
  ] as const) {
    it(`unsupported version ${label}: DAEMON_UNSUPPORTED_VERSION`, async function () {
      const socket = await serve(async (peer) => {
        await peer.u64();
        peer.send(WORKER_MAGIC_2, version);
      });
      await expectDaemonError(connectDaemon(socket, { timeoutMs: 5000 }), 'DAEMON_UNSUPPORTED_VERSION', 'handshake');
    });
  }

  it('a newer daemon (1.40): negotiates 1.38, exchanges features, reads Nix version and trust', async function () {
    let sent: { clientMinor: number; clientFeatures: string[] | undefined } | undefined;
    const socket = await serve(async (peer) => {
      sent = await peer.handshake(40, ['some-future-feature']);
    });
    const client = await connectDaemon(socket, { timeoutMs: 5000 });
    client.close();
    assert.deepEqual(client.hello.version, { major: 1, minor: 38 });
    assert.deepEqual(client.hello.daemonFeatures, ['some-future-feature']);
    assert.deepEqual(client.hello.features, []);
    assert.equal(client.hello.nixVersion, '2.99.0-fake');
    assert.equal(client.hello.trusted, true);
    assert.deepEqual(sent, { clientMinor: 38, clientFeatures: [] });
  });

  it('log lines and activities before an answer reach onLog; STDERR_ERROR is DAEMON_REMOTE_ERROR and the connection stays usable', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(34);
      assert.equal(await peer.u64(), 1);
      assert.equal(await peer.string(), PATH_A);
      peer.send(STDERR_NEXT, 'hello from the daemon');
      peer.send(STDERR_START_ACTIVITY, 7, 3, 100, 'querying', 2, 0, 42, 1, 'field', 0);
      peer.send(STDERR_STOP_ACTIVITY, 7, STDERR_LAST, 1);
      assert.equal(await peer.u64(), 1);
      await peer.string();
      peer.send(STDERR_ERROR, 'Error', 0, 'Error', 'path is not allowed', 0, 1, 0, 'while checking');
      assert.equal(await peer.u64(), 1);
      await peer.string();
      peer.send(STDERR_LAST, 0);
    });
    const events: unknown[] = [];
    const client = await connectDaemon(socket, { timeoutMs: 5000, onLog: (event) => events.push(event) });
    try {
      assert.equal(await client.isValidPath(PATH_A), true);
      assert.deepEqual(events, [
        { type: 'line', text: 'hello from the daemon' },
        { type: 'start-activity', id: 7, level: 3, activityType: 100, text: 'querying' },
        { type: 'stop-activity', id: 7 },
      ]);
      const error = await expectDaemonError(client.isValidPath(PATH_A), 'DAEMON_REMOTE_ERROR', 'IsValidPath');
      assert.equal(error.evidence['daemonMessage'], 'path is not allowed');
      assert.deepEqual(error.evidence['traces'], ['while checking']);
      assert.equal(await client.isValidPath(PATH_A), false);
    } finally {
      client.close();
    }
  });

  it('truncated frame (closes mid-string): DAEMON_CLOSED naming the operation, and every later call fails at once', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(34);
      await peer.u64();
      peer.send(STDERR_LAST, 3);
      peer.socket.end(wire(PATH_A).subarray(0, 20));
    });
    const client = await connectDaemon(socket, { timeoutMs: 5000 });
    await expectDaemonError(client.queryAllValidPaths(), 'DAEMON_CLOSED', 'QueryAllValidPaths');
    const later = await expectDaemonError(client.isValidPath(PATH_A), 'DAEMON_CLOSED', 'IsValidPath');
    assert.equal(later.evidence['failedOperation'], 'QueryAllValidPaths');
    client.close();
  });

  for (const [label, length] of [
    ['2^62', 1n << 62n],
    ['2^64 - 1', (1n << 64n) - 1n],
    ['just above the cap', 1025n],
  ] as const) {
    it(`huge length prefix (${label}): DAEMON_FRAME_TOO_LARGE before allocating`, async function () {
      const socket = await serve(async (peer) => {
        await peer.handshake(34);
        await peer.u64();
        await peer.string();
        peer.send(STDERR_LAST, 1, 0, length); // valid, deriver "", narHash of `length` bytes
      });
      const client = await connectDaemon(socket, { timeoutMs: 5000, maxStringBytes: 1024 });
      const before = process.memoryUsage().arrayBuffers;
      const error = await expectDaemonError(client.queryPathInfo(PATH_A), 'DAEMON_FRAME_TOO_LARGE', 'QueryPathInfo');
      assert.equal(error.evidence['length'], length.toString());
      assert.equal(error.evidence['field'], 'narHash');
      assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, 'nothing near the announced size was allocated');
      client.close();
    });
  }

  it('a list count above the cap: DAEMON_FRAME_TOO_LARGE', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(34);
      await peer.u64();
      peer.send(STDERR_LAST, 1n << 40n);
    });
    const client = await connectDaemon(socket, { timeoutMs: 5000 });
    await expectDaemonError(client.queryAllValidPaths(), 'DAEMON_FRAME_TOO_LARGE', 'QueryAllValidPaths');
    client.close();
  });

  it('garbage instead of a log message: DAEMON_BAD_FRAME', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(34);
      await peer.u64();
      peer.socket.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    const client = await connectDaemon(socket, { timeoutMs: 5000 });
    await expectDaemonError(client.queryAllValidPaths(), 'DAEMON_BAD_FRAME', 'QueryAllValidPaths');
    client.close();
  });

  it('a path outside the store dir in an answer: DAEMON_BAD_ANSWER', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(34);
      await peer.u64();
      peer.send(STDERR_LAST, 1, '/etc/passwd');
    });
    const client = await connectDaemon(socket, { timeoutMs: 5000 });
    await expectDaemonError(client.queryAllValidPaths(), 'DAEMON_BAD_ANSWER', 'QueryAllValidPaths');
    client.close();
  });

  it('never answers the handshake: DAEMON_TIMED_OUT', async function () {
    const socket = await serve(async () => undefined);
    await expectDaemonError(connectDaemon(socket, { timeoutMs: 200 }), 'DAEMON_TIMED_OUT', 'handshake');
  });

  it('stops answering mid-operation: DAEMON_TIMED_OUT naming it, the connection dropped', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(34);
      await peer.u64();
      peer.send(STDERR_NEXT, 'working'); // then silence
    });
    const client = await connectDaemon(socket, { timeoutMs: 300 });
    await expectDaemonError(client.queryReferrers(PATH_A), 'DAEMON_TIMED_OUT', 'QueryReferrers');
    const later = await expectDaemonError(client.isValidPath(PATH_A), 'DAEMON_TIMED_OUT', 'IsValidPath');
    assert.equal(later.evidence['failedOperation'], 'QueryReferrers');
    client.close();
  });

  it('QueryRealisation: JSON realisations at 1.34, output paths at 1.29', async function () {
    const id = `sha256:${'ab'.repeat(32)}!out`;
    const json = JSON.stringify({ id, outPath: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a', signatures: ['k:2', 'k:1'], dependentRealisations: {} });
    for (const [minor, answer] of [
      [34, json],
      [29, PATH_A],
    ] as const) {
      const socket = await serve(async (peer) => {
        await peer.handshake(minor);
        assert.equal(await peer.u64(), 43);
        assert.equal(await peer.string(), id);
        peer.send(STDERR_LAST, 1, answer);
      });
      const client = await connectDaemon(socket, { timeoutMs: 5000, realisations: true });
      const expected = { id, outPath: PATH_A, signatures: minor === 34 ? ['k:1', 'k:2'] : [] };
      assert.deepEqual(await client.queryRealisation(id), [expected]);
      client.close();
    }
  });

  it('QueryRealisation at 1.38 (needs a feature not negotiated): DAEMON_UNSUPPORTED_OPERATION, nothing sent, connection usable', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(38);
      assert.equal(await peer.u64(), 1, 'the next request is IsValidPath, not QueryRealisation');
      await peer.string();
      peer.send(STDERR_LAST, 1);
    });
    const client = await connectDaemon(socket, { timeoutMs: 5000, realisations: true });
    await expectDaemonError(client.queryRealisation(`sha256:${'ab'.repeat(32)}!out`), 'DAEMON_UNSUPPORTED_OPERATION', 'QueryRealisation');
    assert.equal(await client.isValidPath(PATH_A), true);
    client.close();
  });

  it('an aborted signal: DAEMON_ABORTED', async function () {
    const socket = await serve(async (peer) => {
      await peer.handshake(34);
    });
    const controller = new AbortController();
    const client = await connectDaemon(socket, { timeoutMs: 5000, signal: controller.signal });
    const pending = client.queryAllValidPaths();
    controller.abort();
    await expectDaemonError(pending, 'DAEMON_ABORTED', 'QueryAllValidPaths');
    client.close();
  });
});
