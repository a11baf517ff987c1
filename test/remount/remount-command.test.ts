import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandRunError, OutputTail, remountArgv, resolveExecutable, runRemountCommand, trustedRemountArgv } from '../../agent/remount/index.ts';
import { isWardenError } from '../../agent/errors/index.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';
import { writeHook } from './hook-fixture.ts';

const OPTIONS = { timeoutMs: 20_000, killGraceMs: 300, maxOutputBytes: 4096 };

describe('the remount command', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ow-remount-cmd-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('appends the merged store dir to the configured argv, or to the default hook', () => {
    assert.deepEqual(remountArgv(['/bin/hook', '-v'], '/p/hooks/remount', '/nix/store'), ['/bin/hook', '-v', '/nix/store']);
    assert.deepEqual(remountArgv(undefined, '/p/hooks/remount', '/nix/store'), ['/p/hooks/remount', '/nix/store']);
  });

  it('finds a bare command name on PATH and checks who can write it', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const hook = writeHook(bin, 'my-remount', 'exit 0');
    assert.equal(resolveExecutable('my-remount', `/nonexistent:${bin}`), hook.path);
    assert.deepEqual(trustedRemountArgv(['my-remount', '-x'], bin), [hook.path, '-x']);
    assert.throws(
      () => trustedRemountArgv(['absent-remount'], bin),
      (e) => isWardenError(e, 'REMOUNT_COMMAND_NOT_FOUND'),
    );
    assert.throws(
      () => trustedRemountArgv(['relative/hook'], bin),
      (e) => isWardenError(e, 'REMOUNT_COMMAND_NOT_FOUND'),
    );
    chmodSync(bin, 0o777);
    try {
      assert.throws(
        () => trustedRemountArgv([hook.path], bin),
        (e) => isWardenError(e, 'REMOUNT_COMMAND_UNTRUSTED') && /writable by group or others/.test(e.message),
      );
    } finally {
      chmodSync(bin, 0o755);
    }
  });

  it('checks every component: through root’s symlinks it runs; through a directory uid 65534 owns, or their symlink, it is refused', function () {
    requireRoot(this);
    const sub = join(dir, 'chain');
    mkdirSync(join(sub, 'real'), { recursive: true });
    const hook = writeHook(join(sub, 'real'), 'hook', 'exit 0');
    symlinkSync(hook.path, join(sub, 'via-root-link'));
    // The path as found is what runs: every part of it, the symlink included, is root's and unchangeable by others.
    assert.deepEqual(trustedRemountArgv([join(sub, 'via-root-link'), '-v']), [join(sub, 'via-root-link'), '-v']);
    mkdirSync(join(sub, 'theirs'));
    chownSync(join(sub, 'theirs'), 65534, 65534);
    const theirHook = writeHook(join(sub, 'theirs'), 'hook', 'exit 0');
    symlinkSync(join(sub, 'real', 'hook'), join(sub, 'their-link'));
    lchownSync(join(sub, 'their-link'), 65534, 65534);
    for (const [path, where] of [
      [theirHook.path, `ancestor ${join(sub, 'theirs')}`],
      [join(sub, 'their-link'), `symlink ${join(sub, 'their-link')}`],
    ] as const) {
      assert.throws(
        () => trustedRemountArgv([path]),
        (e) => isWardenError(e, 'REMOUNT_COMMAND_UNTRUSTED') && `${String(e.evidence['role'])} ${String(e.evidence['at'])}` === where,
      );
    }
  });

  it('refuses what is not an executable regular file: a FIFO, a file without an execute bit', function () {
    requireCommand(this, 'mkfifo');
    const fifo = join(dir, 'fifo-hook');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    chmodSync(fifo, 0o755);
    const plain = join(dir, 'plain-hook');
    writeFileSync(plain, '#!/bin/sh\n');
    chmodSync(plain, 0o644);
    for (const file of [fifo, plain]) {
      assert.throws(
        () => trustedRemountArgv([file]),
        (e) => isWardenError(e, 'REMOUNT_COMMAND_NOT_FOUND'),
      );
    }
  });

  it('settles when a hook exits but leaves a background process holding its output', async () => {
    const hook = writeHook(dir, 'leaves-child', 'sleep 5 & echo done; exit 0');
    const run = await runRemountCommand([hook.path], OPTIONS);
    assert.equal(run.exitCode, 0);
    assert.equal(run.timedOut, false);
    assert.equal(commandRunError(run), undefined);
    assert.equal(run.stdout.text, 'done\n');
  });

  it('settles after a timeout even when a daemonised grandchild (new session) holds the pipes', async () => {
    const hook = writeHook(dir, 'daemon', 'setsid sleep 5 & sleep 5');
    const run = await runRemountCommand([hook.path], { ...OPTIONS, timeoutMs: 200 });
    assert.equal(run.timedOut, true);
    assert.equal(commandRunError(run)?.code, 'REMOUNT_COMMAND_TIMED_OUT');
  });

  it('reports a command that cannot start, and one killed by a signal', async () => {
    const missing = await runRemountCommand([join(dir, 'nope')], OPTIONS);
    assert.equal(missing.spawnError, 'ENOENT');
    assert.equal(commandRunError(missing)?.code, 'REMOUNT_COMMAND_SPAWN_FAILED');
    const killed = await runRemountCommand([writeHook(dir, 'suicide', 'kill -9 $$').path], OPTIONS);
    assert.equal(killed.signal, 'SIGKILL');
    assert.match(commandRunError(killed)?.message ?? '', /was killed by SIGKILL/);
  });

  it('stops at once when its signal is already aborted', async () => {
    const run = await runRemountCommand([writeHook(dir, 'slow', 'exec sleep 30').path], { ...OPTIONS, signal: AbortSignal.abort() });
    assert.equal(run.cancelled, true);
    assert.equal(commandRunError(run)?.code, 'REMOUNT_CANCELLED');
  });
});

describe('OutputTail', () => {
  it('keeps the last bytes and counts the dropped ones', () => {
    const tail = new OutputTail(5);
    tail.push('abc');
    tail.push(Buffer.from('defg'));
    tail.push('h');
    assert.deepEqual(tail.result(), { text: 'defgh', droppedBytes: 3 });
    tail.push('0123456789');
    assert.deepEqual(tail.result(), { text: '56789', droppedBytes: 18 - 5 });
  });
});
