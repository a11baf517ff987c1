import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LiveEntryIndex, TopLevelWatcher, type DirBatch } from '../../agent/watch/index.ts';
import { EntrySet } from '../../agent/baseline/index.ts';

const h = (c: string): string => c.repeat(32);

/** Resolves with the first value `collect` pushes, or fails after a generous timeout. */
function first<T>(setup: (push: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('nothing within 30 s')), 30_000);
    setup((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('watch/top-level-watcher', () => {
  let dir = '';
  let watcher: TopLevelWatcher | undefined;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-toplevel-'))));
  afterEach(() => {
    watcher?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('batches top-level names with the kinds of change seen, and nothing from deeper levels', async () => {
    fs.mkdirSync(path.join(dir, 'existing'));
    fs.writeFileSync(path.join(dir, 'file'), '');
    const batch = await first<DirBatch>((push) => {
      watcher = new TopLevelWatcher(dir, { watcher: 'lower-store-dir', debounceMs: 100, persistent: false, onBatch: push, onError: (e) => assert.fail(e) });
      watcher.start();
      fs.mkdirSync(path.join(dir, 'new'));
      fs.writeFileSync(path.join(dir, 'existing', 'deep-file'), 'not seen');
      fs.chmodSync(path.join(dir, 'existing'), 0o700);
      fs.writeFileSync(path.join(dir, 'file'), 'x');
    });
    assert.equal(batch.overflow, false);
    // A chmod of a directory arrives as a rename: inotify adds IN_ISDIR, which libuv counts as a rename.
    assert.deepEqual(Object.fromEntries(batch.names), {
      new: { rename: true, change: false },
      existing: { rename: true, change: false },
      file: { rename: false, change: true },
    });
  });

  it('marks a batch with more names than maxNames as overflow, without keeping them', async () => {
    const batch = await first<DirBatch>((push) => {
      watcher = new TopLevelWatcher(dir, {
        watcher: 'lower-store-dir',
        debounceMs: 100,
        maxNames: 3,
        persistent: false,
        onBatch: push,
        onError: (e) => assert.fail(e),
      });
      watcher.start();
      for (let i = 0; i < 10; i++) fs.mkdirSync(path.join(dir, `d${i}`));
    });
    assert.equal(batch.overflow, true);
    assert.equal(batch.names.size, 0);
  });

  it('LiveEntryIndex tracks additions and removals over a compact base, and snapshots them', () => {
    const a = `${h('a')}-a`;
    const b = `${h('b')}-b`;
    const c = `${h('c')}-c`;
    const index = new LiveEntryIndex(EntrySet.fromNames([a, b]));
    index.delete(a);
    index.add(c);
    index.add(b);
    assert.deepEqual([index.has(a), index.has(b), index.has(c)], [false, true, true]);
    assert.deepEqual([...index.snapshot().names()].sort(), [b, c].sort());
    index.add(a);
    index.delete(c);
    assert.deepEqual([...index.snapshot().names()].sort(), [a, b].sort());
    const many = Array.from({ length: 5000 }, (_, i) => `${h('d')}-n${i}`);
    for (const n of many) index.add(n);
    assert.equal(index.snapshot().count, 5002);
  });
});
