import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireRemountLock, Remounter, remountLockPath, runRemountCommand, type HeldRemountLock } from '../../agent/remount/index.ts';
import { processAlive } from '../support/proc.ts';
import { requireCommand } from '../support/requirements.ts';
import { waitFor } from '../support/wait-for.ts';
import { writeHook } from './hook-fixture.ts';
import { someoneWaitsForLock } from './lock-waiters.ts';

const PATH = process.env['PATH'];

describe('the remount lock', function () {
  let root: string;
  let n = 0;
  let dir: string;
  let stateDir: string;
  const held: HeldRemountLock[] = [];

  before(function () {
    requireCommand(this, 'flock');
    requireCommand(this, 'setpriv');
    root = mkdtempSync(join(tmpdir(), 'ow-remount-lock-'));
  });
  after(() => root !== undefined && rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    dir = join(root, String(++n));
    mkdirSync(dir);
    stateDir = join(dir, 'state');
  });
  afterEach(() => {
    for (const lock of held.splice(0)) lock.release();
  });

  const acquire = async (timeoutMs: number, signal?: AbortSignal): Promise<HeldRemountLock> => {
    const lock = await acquireRemountLock(stateDir, { timeoutMs, path: PATH, ...(signal === undefined ? {} : { signal }) });
    held.push(lock);
    return lock;
  };

  it('is taken once at a time: a second taker times out with REMOUNT_LOCK_TIMED_OUT, and gets it once the first lets go', async () => {
    const first = await acquire(5000);
    assert.equal(statSync(remountLockPath(stateDir)).mode & 0o777, 0o600);
    await assert.rejects(acquire(200), { code: 'REMOUNT_LOCK_TIMED_OUT' });
    first.release();
    first.release();
    await acquire(5000);
  });

  it('is held by what the command leaves running, after the command and the agent let go, until it exits', async () => {
    const records = join(dir, 'records');
    const gate = join(dir, 'gate');
    // The command exits at once, leaving a process behind (in a session of its own) that waits for the gate.
    // (It gives up when the test's directory is removed, should the test fail before opening the gate.)
    const leaves = writeHook(
      dir,
      'leaves',
      `setsid sh -c 'while [ ! -e ${gate} ] && [ -d ${dir} ]; do sleep 0.05; done; echo left-over-ended >> ${records}' >/dev/null 2>&1 &`,
    );
    const lock = await acquire(5000);
    const run = await runRemountCommand([leaves.path], {
      timeoutMs: 30_000,
      killGraceMs: 1000,
      maxOutputBytes: 1024,
      launcher: lock.launcher,
      inheritFds: [lock.fd],
    });
    assert.equal(run.exitCode, 0);
    lock.release();

    const next = acquire(30_000).then(() => writeFileSync(records, 'next-acquired\n', { flag: 'a' }));
    await waitFor(() => someoneWaitsForLock(remountLockPath(stateDir)), 'the next taker to wait in flock');
    writeFileSync(gate, '');
    await next;
    assert.deepEqual(readFileSync(records, 'utf8').trim().split('\n'), ['left-over-ended', 'next-acquired']);
  });

  it('stops waiting when aborted (REMOUNT_CANCELLED), leaving no waiter behind', async () => {
    await acquire(5000);
    const stop = new AbortController();
    const waiting = acquire(30_000, stop.signal);
    await waitFor(() => someoneWaitsForLock(remountLockPath(stateDir)), 'the second taker to wait in flock');
    stop.abort();
    await assert.rejects(waiting, { code: 'REMOUNT_CANCELLED' });
    await waitFor(() => !someoneWaitsForLock(remountLockPath(stateDir)), 'the waiter to be gone');
  });

  it('is unavailable (REMOUNT_LOCK_UNAVAILABLE) without util-linux on PATH, or when the lock file is a symlink', async () => {
    await assert.rejects(acquireRemountLock(stateDir, { timeoutMs: 1000, path: join(root, 'empty-bin') }), {
      code: 'REMOUNT_LOCK_UNAVAILABLE',
      message: /util-linux's flock is not on PATH/,
    });
    mkdirSync(stateDir, { recursive: true });
    const elsewhere = join(dir, 'elsewhere');
    symlinkSync(elsewhere, remountLockPath(stateDir));
    await assert.rejects(acquire(1000), { code: 'REMOUNT_LOCK_UNAVAILABLE', message: /ELOOP/ });
    assert.equal(existsSync(elsewhere), false, 'nothing was created through the symlink');
  });

  it('the command runs under setpriv --pdeathsig: it dies with the process that ran it', async () => {
    const pidFile = join(dir, 'command.pid');
    const hook = writeHook(dir, 'waits', `echo $$ > ${pidFile}; exec sleep 600`);
    // A process that takes the lock and runs the command, then is SIGKILLed while the command runs.
    const lockModule = new URL('../../agent/remount/index.ts', import.meta.url).pathname;
    const script = `
      import { acquireRemountLock, runRemountCommand } from ${JSON.stringify(lockModule)};
      import { existsSync } from 'node:fs';
      const lock = await acquireRemountLock(${JSON.stringify(stateDir)}, { timeoutMs: 10000, path: process.env.PATH });
      const timer = setInterval(() => existsSync(${JSON.stringify(pidFile)}) && process.kill(process.pid, 'SIGKILL'), 20);
      await runRemountCommand([${JSON.stringify(hook.path)}], { timeoutMs: 600000, killGraceMs: 1000, maxOutputBytes: 1024, launcher: lock.launcher, inheritFds: [lock.fd] });
      clearInterval(timer);
    `;
    const agent = spawnSync(process.execPath, ['--input-type=module', '--disable-warning=ExperimentalWarning', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(agent.signal, 'SIGKILL', agent.stderr);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      await waitFor(() => !processAlive(pid), 'the command to die with the process that ran it');
    } finally {
      if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    // With nothing left holding it, the lock is free again.
    await acquire(5000);
  });

  it('a Remounter whose lock an earlier remount still holds: REMOUNT_LOCK_TIMED_OUT, retried, and the command never runs meanwhile', async () => {
    await acquire(5000);
    const hook = writeHook(dir, 'ok', 'exit 0');
    const r = new Remounter({
      mergedStoreDir: join(dir, 'merged'),
      stateDir,
      settings: { command: [hook.path], timeoutSeconds: 0.2, attempts: 2, backoffSeconds: 0.05, coalesceMs: 0 },
      verifyAfterRemount: async () => ({ fresh: true, findings: [] }),
    });
    try {
      const outcome = await r.request({ source: 'manual', by: 'test' });
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.attempts, 2);
      assert.equal(outcome.error?.code, 'REMOUNT_LOCK_TIMED_OUT');
      assert.equal(hook.calls().length, 0);
    } finally {
      await r.close();
    }
  });
});
