/** Nix's GC lock as the repairs take it: exclusive against another flock holder (as Nix's GC holds it), waited for, timed out with a clear error. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireGcLock, GcLockError, gcLockPath } from '../../agent/repair/index.ts';
import { requireCommand } from '../support/requirements.ts';

describe("Nix's GC lock", function () {
  this.timeout(60_000);
  let stateDir: string;
  before(function () {
    requireCommand(this, 'flock');
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-gc-lock-'));
  });
  after(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  /** Holds an exclusive flock on `file` in another process (as Nix's GC would) until the returned function is called. */
  async function holdElsewhere(file: string): Promise<() => Promise<void>> {
    const holder = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    return async () => {
      holder.stdin.end();
      await new Promise((resolve) => holder.once('exit', resolve));
    };
  }

  it('creates gc.lock 0600 when missing, holds it exclusively, and lets go on release', async () => {
    const held = await acquireGcLock(stateDir, { timeoutMs: 1000 });
    assert.equal(fs.statSync(gcLockPath(stateDir)).mode & 0o777, 0o600);
    // Another process cannot take it meanwhile (flock -n fails with 1).
    assert.equal(spawnSync('flock', ['--nonblock', gcLockPath(stateDir), 'true']).status, 1);
    held.release();
    held.release();
    assert.equal(spawnSync('flock', ['--nonblock', gcLockPath(stateDir), 'true']).status, 0);
  });

  it('waits for a holder that lets go in time', async () => {
    const letGo = await holdElsewhere(gcLockPath(stateDir));
    const taking = acquireGcLock(stateDir, { timeoutMs: 20_000 });
    setTimeout(() => void letGo(), 300);
    (await taking).release();
  });

  it('times out on a holder that does not, naming the lock and what to do', async () => {
    const letGo = await holdElsewhere(gcLockPath(stateDir));
    try {
      await assert.rejects(acquireGcLock(stateDir, { timeoutMs: 500 }), (e: unknown) => {
        assert.ok(e instanceof GcLockError);
        assert.equal(e.code, 'GC_LOCK_TIMED_OUT');
        assert.match(e.message, /gc\.lock is still held after 0\.5 s: a garbage collection, an optimise or another repair is running/);
        assert.match(e.hint ?? '', /--lock-timeout/);
        return true;
      });
    } finally {
      await letGo();
    }
  });

  it('stops waiting when cancelled', async () => {
    const letGo = await holdElsewhere(gcLockPath(stateDir));
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      await assert.rejects(
        acquireGcLock(stateDir, { timeoutMs: 30_000, signal: controller.signal }),
        (e: unknown) => e instanceof GcLockError && e.code === 'GC_LOCK_CANCELLED',
      );
    } finally {
      await letGo();
    }
  });

  it('refuses a gc.lock that is a symlink', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-gc-lock-link-'));
    try {
      fs.symlinkSync('/etc/hostname', gcLockPath(dir));
      await assert.rejects(acquireGcLock(dir, { timeoutMs: 100 }), (e: unknown) => e instanceof GcLockError && e.code === 'GC_LOCK_UNAVAILABLE');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
