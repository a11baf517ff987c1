/**
 * A directory watch that comes back: the watched directory deleted, moved away, replaced or pinned and deleted, then
 * back at its path. Real directories and real inotify watches (TopLevelWatcher, which a DirSentinel keeps honest);
 * each step waits for the event it expects, nothing counts on timing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dirLoss, dirPresence, TopLevelWatcher, type DirBatch, type WatcherHealthEvent } from '../../agent/watch/index.ts';
import { waitFor } from '../support/wait-for.ts';

const NOW = new Date('2025-03-01T12:00:00.000Z');

/** Everything one watcher reported, in order. */
class Seen {
  readonly batches: DirBatch[] = [];
  readonly health: WatcherHealthEvent[] = [];
  readonly errors: string[] = [];

  describe(): string {
    return `health ${JSON.stringify(this.health)}; batches ${JSON.stringify(this.batches.map((b) => ({ names: [...b.names.keys()], overflow: b.overflow })))}; errors ${this.errors.join('; ')}`;
  }

  /** Waits for the `n`-th health event (1-based) and returns it. */
  async healthEvent(n: number): Promise<WatcherHealthEvent> {
    return waitFor(() => this.health[n - 1], `health event ${n}`, { describe: () => this.describe() });
  }

  /** Waits for a batch, after the first `from`, that matches. */
  async batch(match: (batch: DirBatch) => boolean, what: string, from = 0): Promise<DirBatch> {
    return waitFor(() => this.batches.slice(from).find(match), what, { describe: () => this.describe() });
  }
}

describe('watch/dir-sentinel: a watched directory lost and back', () => {
  let root = '';
  let dir = '';
  let watcher: TopLevelWatcher | undefined;
  let seen: Seen;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-sentinel-'));
    dir = path.join(root, 'store');
    fs.mkdirSync(dir);
    seen = new Seen();
  });
  afterEach(() => {
    watcher?.close();
    watcher = undefined;
    fs.rmSync(root, { recursive: true, force: true });
  });

  function start(): TopLevelWatcher {
    watcher = new TopLevelWatcher(dir, {
      watcher: 'upper-layer',
      debounceMs: 20,
      checkMs: 20,
      persistent: false,
      now: () => NOW,
      onBatch: (batch) => seen.batches.push(batch),
      onError: (error) => seen.errors.push(error.message),
      onHealth: (event) => seen.health.push(event),
    });
    watcher.start();
    assert.equal(watcher.health.state, 'up');
    return watcher;
  }

  /** After `watcher-up`: a resynchronising batch, then a name made now arrives as an ordinary batch. */
  async function watchedAgain(w: TopLevelWatcher): Promise<void> {
    const up = await seen.healthEvent(2);
    assert.equal(up.type, 'watcher-up');
    assert.equal(w.health.state, 'up');
    const resync = await seen.batch((b) => b.overflow, 'the batch that makes the owner resynchronise');
    assert.equal(resync.names.size, 0);
    const from = seen.batches.length;
    fs.mkdirSync(path.join(dir, 'made-after'));
    await seen.batch((b) => b.names.has('made-after'), 'a name made after the watch came back', from);
  }

  it('removed: watcher-down (vanished), status down; made again: watcher-up, a resync, and new names are seen', async () => {
    const w = start();
    fs.rmSync(dir, { recursive: true });
    const down = await seen.healthEvent(1);
    assert.deepEqual(down, { type: 'watcher-down', watcher: 'upper-layer', target: dir, at: NOW.toISOString(), reason: 'vanished', detail: 'ENOENT' });
    assert.deepEqual(w.health, { watcher: 'upper-layer', target: dir, state: 'down', since: NOW.toISOString(), reason: 'vanished', detail: 'ENOENT' });
    fs.mkdirSync(dir);
    await watchedAgain(w);
    assert.deepEqual(seen.health[1], {
      type: 'watcher-up',
      watcher: 'upper-layer',
      target: dir,
      at: NOW.toISOString(),
      downSince: NOW.toISOString(),
      reason: 'vanished',
    });
    assert.deepEqual(seen.errors, []);
  });

  it('moved away and back (the same inode): down, then up', async () => {
    const w = start();
    fs.renameSync(dir, `${dir}.away`);
    assert.equal((await seen.healthEvent(1)).type, 'watcher-down');
    fs.renameSync(`${dir}.away`, dir);
    await watchedAgain(w);
  });

  it('replaced by another directory (renamed over it): down (replaced), then up on the new one', async () => {
    const w = start();
    fs.mkdirSync(`${dir}.new`);
    fs.renameSync(`${dir}.new`, dir);
    const down = await seen.healthEvent(1);
    assert.deepEqual([down.type, down.type === 'watcher-down' && down.reason], ['watcher-down', 'replaced']);
    await watchedAgain(w);
  });

  it('deleted while a process holds it open (inotify says nothing about the directory itself): the periodic stat sees it gone', async () => {
    const holder = spawn('sleep', ['600'], { cwd: dir, stdio: 'ignore' });
    try {
      const w = start();
      fs.rmSync(dir, { recursive: true });
      const down = await seen.healthEvent(1);
      assert.deepEqual([down.type, down.type === 'watcher-down' && down.reason], ['watcher-down', 'vanished']);
      fs.mkdirSync(dir);
      await watchedAgain(w);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a file where the directory was: it stays down until a directory is back', async () => {
    const w = start();
    fs.rmSync(dir, { recursive: true });
    await seen.healthEvent(1);
    fs.writeFileSync(dir, 'not a directory');
    // The sentinel keeps looking, and keeps the state down with the first reason; a directory again brings it up.
    await waitFor(() => w.health.state === 'down' && w.health.detail === 'ENOTDIR', 'the down state to show the file (ENOTDIR)');
    assert.equal(w.health.state === 'down' && w.health.reason, 'vanished');
    fs.rmSync(dir);
    fs.mkdirSync(dir);
    await watchedAgain(w);
    assert.equal(seen.health.length, 2, seen.describe());
  });
});

describe('watch/dir-sentinel: dirPresence and dirLoss', () => {
  let root = '';
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-presence-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a directory, a missing path, a file, a path through a file', () => {
    const file = path.join(root, 'file');
    fs.writeFileSync(file, '');
    const here = dirPresence(root);
    assert.equal(here.kind, 'directory');
    assert.deepEqual(dirPresence(path.join(root, 'missing')), { kind: 'missing', reason: 'vanished', detail: 'ENOENT' });
    assert.deepEqual(dirPresence(file), { kind: 'missing', reason: 'not-a-directory', detail: 'ENOTDIR' });
    assert.deepEqual(dirPresence(path.join(file, 'below')), { kind: 'missing', reason: 'vanished', detail: 'ENOTDIR' });
  });

  it('a symlink loop cannot be watched (ELOOP): watch-failed, not vanished', () => {
    const loop = path.join(root, 'loop');
    fs.symlinkSync('loop', loop);
    assert.deepEqual(dirPresence(loop), { kind: 'missing', reason: 'watch-failed', detail: 'ELOOP' });
  });

  const watched = { dev: 10n, ino: 500n };
  for (const [name, now, loss] of [
    ['the same directory', { kind: 'directory', identity: { dev: 10n, ino: 500n } }, undefined],
    ['another inode', { kind: 'directory', identity: { dev: 10n, ino: 501n } }, { reason: 'replaced', detail: undefined }],
    ['the same inode number on another device', { kind: 'directory', identity: { dev: 11n, ino: 500n } }, { reason: 'replaced', detail: undefined }],
    ['nothing', { kind: 'missing', reason: 'vanished', detail: 'ENOENT' }, { reason: 'vanished', detail: 'ENOENT' }],
    ['a file', { kind: 'missing', reason: 'not-a-directory', detail: 'ENOTDIR' }, { reason: 'not-a-directory', detail: 'ENOTDIR' }],
  ] as const) {
    it(`dirLoss: ${name} at the path`, () => {
      assert.deepEqual(dirLoss(watched, now), loss);
    });
  }
});
