import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ControlError, type ControlErrorCode } from '../../agent/control/control-errors.ts';
import { assertSocketDirSafe, clearStaleSocket, socketAnswers } from '../../agent/control/control-socket-path.ts';

/** Listens on `socketPath` in this process. */
async function listen(socketPath: string): Promise<Server> {
  const server = createServer((socket) => socket.end());
  server.listen(socketPath);
  await once(server, 'listening');
  return server;
}

/** Leaves a socket file nobody listens on, as a crashed agent does: a second link to a listening socket outlives the listener. */
async function leaveStaleSocket(socketPath: string): Promise<void> {
  const server = await listen(`${socketPath}.live`);
  fs.linkSync(`${socketPath}.live`, socketPath);
  await new Promise((resolve) => server.close(resolve));
  assert.ok(fs.lstatSync(socketPath).isSocket());
}

/**
 * A listener that never accepts (its event loop blocked) with a backlog of 1 (Node turns 0 into 511): the kernel
 * queues a connection or two, then refuses more with EAGAIN at once, as it does for a live agent too busy to accept.
 */
async function startBusyListener(socketPath: string): Promise<ChildProcess> {
  const script = `require('net').createServer().listen({ path: ${JSON.stringify(socketPath)}, backlog: 1 }, () => { process.stdout.write('ready\\n'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); })`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  const connect = (): Promise<string> =>
    new Promise((resolve) => {
      const s = createConnection(socketPath);
      const done = (result: string): void => (s.destroy(), resolve(result));
      s.once('connect', () => done('connected'));
      s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'no code'));
    });
  // Fill the backlog (closed clients keep their place until accepted) until the kernel answers EAGAIN.
  const seen: string[] = [];
  while (seen.length < 8 && seen.at(-1) !== 'EAGAIN') seen.push(await connect());
  assert.equal(seen.at(-1), 'EAGAIN', `connections: ${seen.join(', ')}`);
  return child;
}

/** Asserts that `action` throws or rejects with ControlError `code`, and returns the error. */
async function controlError(action: () => unknown, code: ControlErrorCode): Promise<ControlError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof ControlError, `not a ControlError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`no ${code} thrown`);
}

describe('control/control-socket-path', () => {
  let root: string;
  let dir: string;
  let n = 0;
  const servers: Server[] = [];
  const children: ChildProcess[] = [];
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-sockpath-'))));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    dir = path.join(root, String(++n));
    fs.mkdirSync(dir, { mode: 0o700 });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** What can sit at the socket path; listeners started here are stopped after each test. */
  const KINDS = {
    nothing: async () => {},
    'a stale socket (its listener gone)': (p: string) => leaveStaleSocket(p),
    'a live listener': async (p: string) => void servers.push(await listen(p)),
    'a listener too busy to accept (backlog full)': async (p: string) => void children.push(await startBusyListener(p)),
    'a regular file': async (p: string) => fs.writeFileSync(p, 'precious'),
    'a directory': async (p: string) => fs.mkdirSync(p),
    'a FIFO': async (p: string) => assert.equal(spawnSync('mkfifo', [p]).status, 0),
    'a symlink to a live listener': async (p: string) => (servers.push(await listen(`${p}.target`)), fs.symlinkSync(path.basename(`${p}.target`), p)),
    'a dangling symlink': async (p: string) => fs.symlinkSync('nowhere', p),
  } as const satisfies Record<string, (p: string) => Promise<void>>;
  type Kind = keyof typeof KINDS;

  describe('socketAnswers', () => {
    const rows: readonly [Kind, boolean][] = [
      ['nothing', false],
      ['a stale socket (its listener gone)', false],
      ['a regular file', false],
      ['a directory', false],
      ['a live listener', true],
      ['a listener too busy to accept (backlog full)', true],
      ['a symlink to a live listener', true],
      ['a dangling symlink', false],
      ['a FIFO', false],
    ];
    for (const [kind, answers] of rows) {
      it(`${kind} → ${answers}`, async () => {
        const socketPath = path.join(dir, 'control.sock');
        await KINDS[kind](socketPath);
        assert.equal(await socketAnswers(socketPath), answers);
      });
    }
  });

  describe('clearStaleSocket', () => {
    const rows: readonly { kind: Kind; outcome: 'absent' | 'removed-stale' | ControlErrorCode }[] = [
      { kind: 'nothing', outcome: 'absent' },
      { kind: 'a stale socket (its listener gone)', outcome: 'removed-stale' },
      { kind: 'a live listener', outcome: 'CONTROL_SOCKET_IN_USE' },
      { kind: 'a listener too busy to accept (backlog full)', outcome: 'CONTROL_SOCKET_IN_USE' },
      { kind: 'a regular file', outcome: 'CONTROL_PATH_NOT_SOCKET' },
      { kind: 'a directory', outcome: 'CONTROL_PATH_NOT_SOCKET' },
      { kind: 'a FIFO', outcome: 'CONTROL_PATH_NOT_SOCKET' },
      { kind: 'a symlink to a live listener', outcome: 'CONTROL_PATH_NOT_SOCKET' },
      { kind: 'a dangling symlink', outcome: 'CONTROL_PATH_NOT_SOCKET' },
    ];
    for (const { kind, outcome } of rows) {
      const removes = outcome === 'removed-stale';
      it(`${kind} → ${outcome}${outcome === 'absent' ? '' : removes ? ', and it is gone' : ', left as it was'}`, async () => {
        const socketPath = path.join(dir, 'control.sock');
        await KINDS[kind](socketPath);
        const before = outcome === 'absent' ? undefined : fs.lstatSync(socketPath);
        if (outcome === 'absent' || outcome === 'removed-stale') assert.equal(await clearStaleSocket(socketPath), outcome);
        else {
          const error = await controlError(() => clearStaleSocket(socketPath), outcome);
          assert.equal(error.evidence['socketPath'], socketPath);
          if (outcome === 'CONTROL_PATH_NOT_SOCKET') assert.equal(error.evidence['mode'], before!.mode.toString(8));
        }
        if (removes) assert.equal(fs.existsSync(socketPath), false);
        else if (before !== undefined) assert.equal(fs.lstatSync(socketPath).ino, before.ino);
      });
    }

    it('a live listener keeps answering after the refusal', async () => {
      const socketPath = path.join(dir, 'control.sock');
      await KINDS['a live listener'](socketPath);
      await controlError(() => clearStaleSocket(socketPath), 'CONTROL_SOCKET_IN_USE');
      assert.equal(await socketAnswers(socketPath), true);
    });

    it('a name too long for the file system → CONTROL_LISTEN_FAILED naming the errno', async () => {
      const socketPath = path.join(dir, `${'x'.repeat(300)}.sock`);
      const error = await controlError(() => clearStaleSocket(socketPath), 'CONTROL_LISTEN_FAILED');
      assert.equal(error.evidence['errno'], 'ENAMETOOLONG');
    });
  });

  describe('assertSocketDirSafe', () => {
    const ROOT = 0;
    const AGENT = 4242;
    /** The socket dir as made by `setUp` (relative to the test's dir); `result` ok or the error code. */
    const rows: readonly { name: string; setUp: (d: string) => string; uid: number; result: 'ok' | ControlErrorCode; evidenceMode?: string }[] = [
      { name: 'mode 0700, owned by root', setUp: (d) => mk(d, 'run', 0o700), uid: ROOT, result: 'ok' },
      { name: 'mode 0755, owned by root (others may read, not write)', setUp: (d) => mk(d, 'run', 0o755), uid: ROOT, result: 'ok' },
      { name: 'mode 0750, owned by root, agent not root', setUp: (d) => mk(d, 'run', 0o750), uid: AGENT, result: 'ok' },
      { name: 'owned by the agent’s user', setUp: (d) => chown(mk(d, 'run', 0o700), AGENT), uid: AGENT, result: 'ok' },
      { name: 'group-writable (0770)', setUp: (d) => mk(d, 'run', 0o770), uid: ROOT, result: 'CONTROL_DIR_UNSAFE', evidenceMode: '770' },
      { name: 'writable by others only (0702)', setUp: (d) => mk(d, 'run', 0o702), uid: ROOT, result: 'CONTROL_DIR_UNSAFE', evidenceMode: '702' },
      { name: 'world-writable (0777)', setUp: (d) => mk(d, 'run', 0o777), uid: ROOT, result: 'CONTROL_DIR_UNSAFE', evidenceMode: '777' },
      { name: 'world-writable and sticky, as /tmp (1777)', setUp: (d) => mk(d, 'run', 0o1777), uid: ROOT, result: 'CONTROL_DIR_UNSAFE', evidenceMode: '1777' },
      {
        name: 'owned by another user, even at 0700',
        setUp: (d) => chown(mk(d, 'run', 0o700), 1234),
        uid: ROOT,
        result: 'CONTROL_DIR_UNSAFE',
        evidenceMode: '700',
      },
      {
        name: 'a symlink to a world-writable directory (the target counts)',
        setUp: (d) => link(d, mk(d, 'open', 0o777)),
        uid: ROOT,
        result: 'CONTROL_DIR_UNSAFE',
        evidenceMode: '777',
      },
      { name: 'a symlink to a private directory', setUp: (d) => link(d, mk(d, 'private', 0o700)), uid: ROOT, result: 'ok' },
      {
        name: 'a regular file where the directory should be',
        setUp: (d) => (fs.writeFileSync(path.join(d, 'run'), ''), 'run'),
        uid: ROOT,
        result: 'CONTROL_LISTEN_FAILED',
      },
      {
        name: 'a regular file on the way to it',
        setUp: (d) => (fs.writeFileSync(path.join(d, 'run'), ''), 'run/overlay-warden'),
        uid: ROOT,
        result: 'CONTROL_LISTEN_FAILED',
      },
    ];
    function mk(d: string, name: string, mode: number): string {
      fs.mkdirSync(path.join(d, name));
      fs.chmodSync(path.join(d, name), mode);
      return name;
    }
    function chown(name: string, uid: number): string {
      fs.chownSync(path.join(dir, name), uid, 0);
      return name;
    }
    function link(d: string, target: string): string {
      fs.symlinkSync(target, path.join(d, 'run'));
      return 'run';
    }

    for (const row of rows) {
      it(`${row.name} (agent uid ${row.uid}) → ${row.result}`, async () => {
        const socketPath = path.join(dir, row.setUp(dir), 'control.sock');
        const entries = fs.readdirSync(dir).sort();
        if (row.result === 'ok') assertSocketDirSafe(socketPath, row.uid);
        else {
          const error = await controlError(() => assertSocketDirSafe(socketPath, row.uid), row.result);
          assert.ok(
            error.message.startsWith(`refusing to listen on ${socketPath}: `) || error.message.startsWith(`cannot listen on ${socketPath}: `),
            error.message,
          );
          if (row.evidenceMode !== undefined)
            assert.deepEqual(error.evidence, { dir: path.dirname(socketPath), uid: fs.statSync(path.dirname(socketPath)).uid, mode: row.evidenceMode });
          else assert.ok(['EEXIST', 'ENOTDIR'].includes(String(error.evidence['errno'])), String(error.evidence['errno']));
        }
        assert.deepEqual(fs.readdirSync(dir).sort(), entries, 'nothing created or removed');
      });
    }

    for (const parts of [['run'], ['run', 'overlay-warden']]) {
      it(`creates a missing directory${parts.length > 1 ? ' and its missing parent' : ''} with mode 0700, then accepts it`, () => {
        const socketPath = path.join(dir, ...parts, 'control.sock');
        assertSocketDirSafe(socketPath, ROOT);
        for (let i = 1; i <= parts.length; i++)
          assert.equal(fs.statSync(path.join(dir, ...parts.slice(0, i))).mode & 0o077, 0, 'private: no access for group or others');
        assert.equal(fs.existsSync(socketPath), false, 'the socket itself is not created');
      });
    }

    it('a private directory inside one uid 65534 owns: refused, naming the directory on the way', async () => {
      const theirs = path.join(dir, mk(dir, 'theirs', 0o755));
      fs.chownSync(theirs, 65534, 65534);
      const socketPath = path.join(theirs, 'run', 'control.sock');
      fs.mkdirSync(path.dirname(socketPath), { mode: 0o700 });
      const error = await controlError(() => assertSocketDirSafe(socketPath, ROOT), 'CONTROL_DIR_UNSAFE');
      assert.deepEqual(error.evidence, { dir: path.dirname(socketPath), uid: 65534, mode: '755', unsafe: theirs });
      assert.match(error.message, new RegExp(`^refusing to listen on ${socketPath}: the directory ${theirs} is owned by uid 65534`));
      assert.match(error.hint ?? '', new RegExp(`chown root ${theirs} && chmod go-w ${theirs}$`));
    });

    it('the hint names the fix for an unsafe directory', async () => {
      const socketPath = path.join(dir, mk(dir, 'run', 0o777), 'control.sock');
      const error = await controlError(() => assertSocketDirSafe(socketPath, ROOT), 'CONTROL_DIR_UNSAFE');
      assert.equal(
        error.hint,
        `use a directory only root can write (the default is /run/overlay-warden), or: chown root ${path.dirname(socketPath)} && chmod 0700 ${path.dirname(socketPath)}`,
      );
    });
  });
});
