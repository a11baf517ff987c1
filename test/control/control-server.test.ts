import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestControl, startControlServer, remountHandler, type ControlHandler, type ControlServer } from '../../agent/control/index.ts';
import { WardenError } from '../../agent/errors/index.ts';
import type { RemountOutcome, RemountRequest } from '../../agent/remount/index.ts';

/** Sends raw bytes and collects the lines the server sends back until it closes the connection or `lines` arrived. */
function rawExchange(socketPath: string, bytes: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let text = '';
    const done = (): void => {
      socket.destroy();
      resolve(text.split('\n').filter((l) => l !== ''));
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.split('\n').length > lines) done();
    });
    socket.on('close', done);
    socket.on('error', reject);
  });
}

/** Leaves a socket file nobody listens on, as a crashed agent would. */
function leaveStaleSocket(path: string): void {
  const run = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(run.signal, 'SIGKILL');
  assert.ok(lstatSync(path).isSocket());
}

describe('control socket', () => {
  let root: string;
  let n = 0;
  let dir: string;
  let socketPath: string;
  let server: ControlServer | undefined;
  const echo: ControlHandler = (request) => ({ echoed: request['value'] ?? null });

  before(() => (root = mkdtempSync(join(tmpdir(), 'ow-control-'))));
  after(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    dir = join(root, String(++n));
    mkdirSync(dir, { mode: 0o700 });
    socketPath = join(dir, 'control.sock');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('listens with mode 0600, alone in its directory (no Node published for the hook), answers, and cleans up on close (idempotent)', async () => {
    server = await startControlServer({ socketPath, handlers: { echo } });
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['control.sock']);
    assert.deepEqual(await requestControl(socketPath, { id: 'x', action: 'echo', value: 42 }, { timeoutMs: 5000 }), {
      id: 'x',
      ok: true,
      result: { echoed: 42 },
    });
    await Promise.all([server.close(), server.close()]);
    assert.equal(existsSync(socketPath), false);
    assert.deepEqual(readdirSync(dir), []);
    await assert.rejects(requestControl(socketPath, { action: 'echo' }, { timeoutMs: 5000 }), { code: 'CONTROL_NO_AGENT' });
  });

  it('creates a missing socket directory privately', async () => {
    socketPath = join(dir, 'run', 'ow', 'control.sock');
    server = await startControlServer({ socketPath, handlers: { echo } });
    assert.equal(statSync(join(dir, 'run', 'ow')).mode & 0o777, 0o700);
  });

  it('replaces a stale socket file that nobody answers on', async () => {
    leaveStaleSocket(socketPath);
    await assert.rejects(requestControl(socketPath, { action: 'echo' }, { timeoutMs: 5000 }), { code: 'CONTROL_NO_AGENT' });
    server = await startControlServer({ socketPath, handlers: { echo } });
    assert.equal((await requestControl(socketPath, { action: 'echo', value: 1 }, { timeoutMs: 5000 })).ok, true);
  });

  it('does not steal a live socket, which keeps answering', async () => {
    server = await startControlServer({ socketPath, handlers: { echo } });
    await assert.rejects(startControlServer({ socketPath, handlers: {} }), { code: 'CONTROL_SOCKET_IN_USE' });
    assert.deepEqual(await requestControl(socketPath, { id: 1, action: 'echo', value: 'first agent' }, { timeoutMs: 5000 }), {
      id: 1,
      ok: true,
      result: { echoed: 'first agent' },
    });
  });

  it('leaves a file that is not a socket alone', async () => {
    writeFileSync(socketPath, 'precious');
    await assert.rejects(startControlServer({ socketPath, handlers: { echo } }), { code: 'CONTROL_PATH_NOT_SOCKET' });
    assert.equal(readFileSync(socketPath, 'utf8'), 'precious');
  });

  it('refuses a directory others can write, sticky or not', async () => {
    for (const mode of [0o777, 0o1777, 0o775]) {
      chmodSync(dir, mode);
      await assert.rejects(startControlServer({ socketPath, handlers: { echo } }), { code: 'CONTROL_DIR_UNSAFE' }, mode.toString(8));
    }
    assert.equal(existsSync(socketPath), false);
  });

  it('answers several requests on one connection in order, and bad ones with an error', async () => {
    server = await startControlServer({
      socketPath,
      handlers: { echo, fail: () => Promise.reject(new WardenError('SOME_CODE', 'it broke', { hint: 'mend it' })) },
    });
    const lines = await rawExchange(
      socketPath,
      [
        '{"id":1,"action":"echo","value":"a"}',
        'not json',
        '{"id":2,"action":"nope"}',
        '{"id":3,"action":"fail"}',
        '{"id":4,"action":"echo","value":"b"}',
        '',
      ].join('\n'),
      5,
    );
    const responses = lines.map((l) => JSON.parse(l));
    assert.deepEqual(responses[0], { id: 1, ok: true, result: { echoed: 'a' } });
    assert.equal(responses[1].error.code, 'CONTROL_BAD_REQUEST');
    assert.deepEqual([responses[2].id, responses[2].error.code, responses[2].error.hint], [2, 'CONTROL_UNKNOWN_ACTION', 'actions: echo, fail']);
    assert.deepEqual(responses[3], { id: 3, ok: false, error: { code: 'SOME_CODE', message: 'it broke', evidence: {}, hint: 'mend it' } });
    assert.deepEqual(responses[4], { id: 4, ok: true, result: { echoed: 'b' } });
  });

  it('bounds a request in size', async () => {
    server = await startControlServer({ socketPath, handlers: { echo }, maxRequestBytes: 1024 });
    const lines = await rawExchange(socketPath, `{"id":1,"action":"echo","value":"${'x'.repeat(5000)}"}\n`, 1);
    assert.equal(JSON.parse(lines[0]!).error.code, 'CONTROL_REQUEST_TOO_LARGE');
  });

  it('bounds a request in time: a slow handler is answered with CONTROL_HANDLER_TIMEOUT and its signal aborts', async () => {
    let sawAbort = false;
    const slow: ControlHandler = (_request, signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => ((sawAbort = true), reject(signal.reason))));
    server = await startControlServer({ socketPath, handlers: { slow }, requestTimeoutMs: 200 });
    const response = await requestControl(socketPath, { action: 'slow' }, { timeoutMs: 10_000 });
    assert.equal(!response.ok && response.error.code, 'CONTROL_HANDLER_TIMEOUT');
    assert.equal(sawAbort, true);
  });

  it('drops a connection that sends no complete request in time', async () => {
    server = await startControlServer({ socketPath, handlers: { echo }, readTimeoutMs: 200 });
    assert.deepEqual(await rawExchange(socketPath, '{"id":1,"act', 1), []);
  });

  it('client: gives up after its timeout', async () => {
    server = await startControlServer({ socketPath, handlers: { never: () => new Promise(() => {}) } });
    await assert.rejects(requestControl(socketPath, { action: 'never' }, { timeoutMs: 200 }), { code: 'CONTROL_TIMEOUT' });
  });

  it('close() answers a running request with CONTROL_CLOSING within its grace', async () => {
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    server = await startControlServer({
      socketPath,
      handlers: { wait: (_r, signal) => (started(), new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))) },
    });
    const pending = requestControl(socketPath, { action: 'wait' }, { timeoutMs: 10_000 });
    await running;
    await server.close(2000);
    const response = await pending;
    assert.equal(!response.ok && response.error.code, 'CONTROL_CLOSING');
    assert.equal(existsSync(socketPath), false);
  });

  describe('the remount action', () => {
    const outcome = { run: 1, status: 'remounted', fresh: true } as unknown as RemountOutcome;
    let requests: RemountRequest[];
    const remounter = { request: async (r: RemountRequest) => (requests.push(r), outcome) };
    beforeEach(() => (requests = []));

    it('passes a Nix hook request for the supervised store and answers with the outcome', async () => {
      mkdirSync(join(dir, 'merged'));
      server = await startControlServer({ socketPath, handlers: { remount: remountHandler(remounter, join(dir, 'merged')) } });
      const response = await requestControl(socketPath, { action: 'remount', source: 'nix-hook', mergedStoreDir: `${dir}/./merged/` }, { timeoutMs: 5000 });
      assert.deepEqual(response.ok && response.result, outcome);
      assert.deepEqual(requests, [{ source: 'nix-hook', mergedStoreDir: `${dir}/./merged/` }]);
      const manual = await requestControl(socketPath, { action: 'remount', by: 'ops', note: 'after upgrade', wait: false }, { timeoutMs: 5000 });
      assert.deepEqual(manual.ok && manual.result, { queued: true });
      assert.deepEqual(requests[1], { source: 'manual', by: 'ops', note: 'after upgrade' });
    });

    it('refuses another store (so the hook remounts it directly) and sources only the agent may use', async () => {
      server = await startControlServer({ socketPath, handlers: { remount: remountHandler(remounter, join(dir, 'merged')) } });
      const other = await requestControl(socketPath, { action: 'remount', source: 'nix-hook', mergedStoreDir: '/elsewhere/nix/store' }, { timeoutMs: 5000 });
      assert.equal(!other.ok && other.error.code, 'CONTROL_WRONG_STORE');
      const watcher = await requestControl(socketPath, { action: 'remount', source: 'watcher' }, { timeoutMs: 5000 });
      assert.equal(!watcher.ok && watcher.error.code, 'CONTROL_BAD_REQUEST');
      assert.deepEqual(requests, []);
    });
  });
});
