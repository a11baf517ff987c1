import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isWardenError } from '../../agent/errors/index.ts';
import {
  boundedMap,
  PoolAbortedError,
  PoolClosedError,
  PoolOptionsError,
  PoolQueueFullError,
  PoolTaskError,
  WorkerPool,
  type MapOutcome,
  type NarHashTask,
  type NarHashTaskResult,
  type PoolTask,
} from '../../agent/pool/index.ts';
import { allocatedBytesFreedByRemovalSync } from '../../agent/pool/disk-usage.ts';
import { narHashOfPathSync } from '../../agent/store/nar.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { openFileOffsets } from '../support/proc.ts';
import { requireCommand } from '../support/requirements.ts';
import { waitFor, withSafetyNet } from '../support/wait-for.ts';
import { WorkerThreadTracker } from '../support/worker-threads.ts';

const never = () => new AbortController().signal;
const narHash = (p: string): NarHashTask => ({ type: 'nar-hash', path: p });
const directHex = (p: string) => {
  const { hash, narSize } = narHashOfPathSync(p);
  return { hash: hash.toString('hex'), narSize };
};

async function collect<I, R>(run: AsyncIterable<MapOutcome<I, R>>): Promise<MapOutcome<I, R>[]> {
  const outcomes: MapOutcome<I, R>[] = [];
  for await (const outcome of run) outcomes.push(outcome);
  return outcomes;
}

describe('pool/worker-pool', function () {
  let dir: string;
  /** A layer with store-object-like entries: a file, an executable, a tree with a symlink. */
  let layer: string;
  let objects: string[];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-pool-'));
    layer = path.join(dir, 'layer');
    fs.mkdirSync(layer);
    fs.writeFileSync(path.join(layer, 'aaa-text'), 'hello\n');
    fs.writeFileSync(path.join(layer, 'bbb-script'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const tree = path.join(layer, 'ccc-tree');
    fs.mkdirSync(path.join(tree, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'bin', 'tool'), Buffer.alloc(300_000, 7), { mode: 0o555 });
    fs.writeFileSync(path.join(tree, 'README'), 'a tree\n');
    fs.symlinkSync('bin/tool', path.join(tree, 'tool'));
    fs.mkdirSync(path.join(tree, 'empty'));
    fs.symlinkSync('/nowhere', path.join(layer, 'ddd-dangling-link'));
    objects = ['aaa-text', 'bbb-script', 'ccc-tree', 'ddd-dangling-link'].map((n) => path.join(layer, n));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('results', () => {
    let pool: WorkerPool;
    before(() => {
      pool = new WorkerPool({ maxThreads: 2 });
    });
    after(() => pool.close());

    it('nar-hash gives what narHashOfPathSync gives, as hex', async () => {
      for (const object of objects) {
        const result = await pool.run(narHash(object), never());
        assert.deepEqual(result, { type: 'nar-hash', ...directHex(object) });
      }
    });

    it('nar-hash agrees with nix-hash (the reference)', async function () {
      requireCommand(this, 'nix-hash');
      for (const object of objects) {
        const expected = execFileSync('nix-hash', ['--type', 'sha256', object], { encoding: 'utf8', env: nixEnv() }).trim();
        assert.equal((await pool.run(narHash(object), never())).hash, expected, object);
      }
    });

    it('compare-pair hashes the upper copy as served (merged over the lower one) and the lower copy, flags equality and measures the upper copy', async () => {
      const lower = path.join(dir, 'lower');
      fs.cpSync(layer, lower, { recursive: true, verbatimSymlinks: true });
      fs.appendFileSync(path.join(lower, 'aaa-text'), 'changed\n');
      const same = await pool.run({ type: 'compare-pair', upperPath: path.join(layer, 'ccc-tree'), lowerPath: path.join(lower, 'ccc-tree') }, never());
      assert.deepEqual(same, {
        type: 'compare-pair',
        upper: { ...directHex(path.join(layer, 'ccc-tree')), merged: true },
        lower: directHex(path.join(lower, 'ccc-tree')),
        equal: true,
        upperBytes: allocatedBytesFreedByRemovalSync(path.join(layer, 'ccc-tree')),
      });
      assert.ok(same.upperBytes >= 300_000);
      const differ = await pool.run({ type: 'compare-pair', upperPath: path.join(layer, 'aaa-text'), lowerPath: path.join(lower, 'aaa-text') }, never());
      assert.equal(differ.equal, false);
      assert.deepEqual(differ.lower, directHex(path.join(lower, 'aaa-text')));
    });

    it('map runs many tasks and matches direct calls, with progress bytes from narSize', async () => {
      const items = Array.from({ length: 40 }, (_, i) => objects[i % objects.length]!);
      let lastBytes = -1;
      const outcomes = await collect(pool.map(items, narHash, { signal: never(), onProgress: (p) => (lastBytes = p.bytes), progressIntervalMs: 0 }));
      assert.equal(outcomes.length, 40);
      let expectedBytes = 0;
      for (const outcome of outcomes) {
        assert.ok(outcome.ok);
        const direct = directHex(outcome.item);
        expectedBytes += direct.narSize;
        assert.deepEqual(outcome.value, { type: 'nar-hash', ...direct });
      }
      assert.equal(lastBytes, expectedBytes);
    });
  });

  describe('task errors', () => {
    let pool: WorkerPool;
    before(() => {
      pool = new WorkerPool({ maxThreads: 2 });
    });
    after(() => pool.close());

    it('a throwing task reports its path and code while the others complete', async function () {
      const fifo = path.join(dir, 'a-fifo');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
      const missing = path.join(dir, 'no-such-object');
      const bad = new Map<string, string>([
        [missing, 'NAR_IO_ERROR'],
        [fifo, 'NAR_UNSUPPORTED_FILE_TYPE'],
      ]);
      const items = [...objects, ...bad.keys(), ...objects];
      const outcomes = await collect(pool.map(items, narHash, { signal: never(), concurrency: 3 }));
      assert.equal(outcomes.length, items.length);
      for (const outcome of outcomes) {
        const code = bad.get(outcome.item);
        if (code === undefined) {
          assert.ok(outcome.ok, outcome.item);
          continue;
        }
        assert.ok(!outcome.ok);
        assert.equal(outcome.error.code, code);
        assert.equal(outcome.error.evidence['path'], outcome.item);
        assert.equal(outcome.error.evidence['taskPath'], outcome.item);
        assert.ok(outcome.error.message.includes(outcome.item));
      }
    });

    it('run rejects with a rebuilt WardenError carrying the worker-side code and evidence', async () => {
      const missing = path.join(dir, 'gone');
      await assert.rejects(pool.run(narHash(missing), never()), (error: unknown) => {
        assert.ok(error instanceof PoolTaskError);
        assert.ok(isWardenError(error, 'NAR_IO_ERROR'));
        assert.equal(error.remoteName, 'NarError');
        assert.equal(error.evidence['errno'], 'ENOENT');
        assert.deepEqual(error.evidence['task'], narHash(missing));
        return true;
      });
    });

    it('names the pair in a compare-pair failure, and the failing copy in the evidence', async () => {
      const lowerPath = path.join(dir, 'lower-missing');
      await assert.rejects(pool.run({ type: 'compare-pair', upperPath: objects[0]!, lowerPath }, never()), (error: unknown) => {
        assert.ok(isWardenError(error, 'NAR_IO_ERROR'));
        assert.equal(error.evidence['path'], lowerPath);
        assert.ok(error.message.startsWith(`compare-pair ${objects[0]} vs ${lowerPath}: `));
        return true;
      });
    });

    it('rejects an unknown task type', async () => {
      await assert.rejects(pool.run({ type: 'format-disk' } as unknown as PoolTask, never()), { code: 'POOL_TASK_UNKNOWN_TYPE' });
    });
  });

  describe('cancellation', () => {
    /** Sparse files: cheap to make, each a real hashing job (tens of ms). */
    let big: string[];
    let huge: string;
    before(() => {
      const sparse = path.join(dir, 'sparse');
      fs.mkdirSync(sparse);
      big = Array.from({ length: 200 }, (_, i) => {
        const p = path.join(sparse, `big-${i}`);
        fs.writeFileSync(p, `file ${i}`);
        fs.truncateSync(p, 32 << 20);
        return p;
      });
      huge = path.join(sparse, 'huge');
      fs.writeFileSync(huge, 'x');
      fs.truncateSync(huge, 32 * 2 ** 30); // 32 GiB of holes: many seconds of hashing
    });

    it('rejects at once when the signal is already aborted, submitting nothing', async () => {
      const pool = new WorkerPool({ maxThreads: 1 });
      try {
        const controller = new AbortController();
        controller.abort(new Error('shutdown'));
        await assert.rejects(pool.run(narHash(huge), controller.signal), (error: unknown) => {
          assert.ok(error instanceof PoolAbortedError);
          assert.equal((error.cause as Error).message, 'shutdown');
          return true;
        });
        assert.deepEqual([pool.stats().inFlight, pool.stats().peakInFlight, pool.stats().threads], [0, 0, 0]);
      } finally {
        await pool.close();
      }
    });

    it('an abort during a long run rejects, drops what was queued, and ends every busy thread', async () => {
      const threads = new WorkerThreadTracker();
      const pool = new WorkerPool({ maxThreads: 2 });
      try {
        const controller = new AbortController();
        const outcomes: MapOutcome<string, NarHashTaskResult>[] = [];
        const run = (async () => {
          for await (const outcome of pool.map(big, narHash, { signal: controller.signal })) {
            outcomes.push(outcome);
            if (outcomes.length === 5) controller.abort(new Error('ctrl-c'));
          }
        })();
        await assert.rejects(run, PoolAbortedError);
        assert.ok(outcomes.every((o) => o.ok));
        assert.equal(outcomes.length, 5, 'nothing was yielded after the abort');
        const stats = pool.stats();
        assert.equal(stats.inFlight, 0, 'nothing submitted is still pending');
        assert.equal(stats.queued, 0, 'queued tasks were dropped');
        // Every thread was busy with an aborted task, so every one was terminated (minThreads is 0).
        assert.equal(stats.threads, 0);
        assert.ok(threads.threads.length > 0);
        await withSafetyNet(threads.allExited(), 'the terminated threads to exit');
      } finally {
        threads.stop();
        await pool.close();
      }
    });

    it('aborting a running task ends the thread hashing it, which closes the file; a new thread takes the next task', async () => {
      const threads = new WorkerThreadTracker();
      const pool = new WorkerPool({ maxThreads: 1, minThreads: 1 });
      try {
        await pool.run(narHash(objects[0]!), never()); // the thread is up
        assert.equal(threads.threads.length, 1);
        const hashing = threads.threads[0]!;
        const controller = new AbortController();
        const running = pool.run(narHash(huge), controller.signal);
        // The hash is under way: the thread holds the file open and has read into it.
        await waitFor(() => openFileOffsets('self', huge).some((offset) => offset > 0), 'the thread to be reading the huge file');
        controller.abort();
        await assert.rejects(running, PoolAbortedError);
        // Hashing 32 GiB would keep the thread alive far past this safety net.
        await withSafetyNet(hashing.exited, 'the thread that ran the aborted task to exit');
        assert.deepEqual(openFileOffsets('self', huge), [], 'the file it was reading is closed');
        assert.deepEqual(await pool.run(narHash(objects[0]!), never()), { type: 'nar-hash', ...directHex(objects[0]!) });
        assert.ok(
          threads.threads.some((t) => t.threadId !== hashing.threadId),
          'a replacement thread ran it',
        );
      } finally {
        threads.stop();
        await pool.close();
      }
    });
  });

  describe('back-pressure', () => {
    it('map keeps at most `concurrency` tasks in flight (pool instrumentation)', async () => {
      const pool = new WorkerPool({ maxThreads: 2 });
      try {
        const items = Array.from({ length: 60 }, (_, i) => objects[i % objects.length]!);
        let queuedPeak = 0;
        const outcomes = await collect(
          pool.map(items, narHash, {
            signal: never(),
            concurrency: 3,
            progressIntervalMs: 0,
            onProgress: () => (queuedPeak = Math.max(queuedPeak, pool.stats().queued)),
          }),
        );
        assert.equal(outcomes.length, 60);
        assert.equal(pool.stats().peakInFlight, 3);
        assert.ok(queuedPeak <= 3);
      } finally {
        await pool.close();
      }
    });

    it('map defaults to twice the pool size in flight', async () => {
      const pool = new WorkerPool({ maxThreads: 2 });
      try {
        await collect(
          pool.map(
            Array.from({ length: 30 }, () => objects[0]!),
            narHash,
            { signal: never() },
          ),
        );
        assert.equal(pool.stats().peakInFlight, 4);
      } finally {
        await pool.close();
      }
    });

    it('counts concurrently running calls through boundedMap + run', async () => {
      const pool = new WorkerPool({ maxThreads: 2 });
      try {
        let running = 0;
        let peak = 0;
        const outcomes = await collect(
          boundedMap(
            Array.from({ length: 50 }, (_, i) => objects[i % objects.length]!),
            async (p, signal) => {
              peak = Math.max(peak, ++running);
              try {
                return await pool.run(narHash(p), signal);
              } finally {
                running--;
              }
            },
            { signal: never(), concurrency: 5 },
          ),
        );
        assert.equal(outcomes.length, 50);
        assert.ok(peak <= 5 && peak > 1, `peak ${peak}`);
      } finally {
        await pool.close();
      }
    });

    it('rejects tasks beyond maxThreads + maxQueue instead of queueing without bound', async () => {
      const pool = new WorkerPool({ maxThreads: 1, maxQueue: 2 });
      try {
        const accepted = [0, 1, 2].map(() => pool.run(narHash(objects[0]!), never()));
        await assert.rejects(pool.run(narHash(objects[0]!), never()), PoolQueueFullError);
        await Promise.all(accepted);
        assert.throws(
          () => pool.map([], narHash, { signal: never(), concurrency: 4 }),
          (e: unknown) => e instanceof PoolOptionsError && e.field === 'concurrency',
        );
      } finally {
        await pool.close();
      }
    });
  });

  describe('close', () => {
    it('is idempotent, ends every thread, and refuses later work', async () => {
      const pool = new WorkerPool({ maxThreads: 2, minThreads: 2 });
      await pool.run(narHash(objects[0]!), never());
      assert.equal(pool.stats().threads, 2);
      const first = pool.close();
      const second = pool.close();
      assert.equal(first, second);
      await first;
      await pool.close();
      assert.equal(pool.stats().threads, 0);
      assert.equal(pool.stats().closed, true);
      await assert.rejects(pool.run(narHash(objects[0]!), never()), PoolClosedError);
      await assert.rejects(collect(pool.map([objects[0]!], narHash, { signal: never() })), PoolClosedError);
    });

    it('drops queued tasks and stops a running one after the grace period', async () => {
      const huge = path.join(dir, 'huge-close');
      fs.writeFileSync(huge, 'y');
      fs.truncateSync(huge, 32 * 2 ** 30);
      const threads = new WorkerThreadTracker();
      const pool = new WorkerPool({ maxThreads: 1, closeGraceMs: 200 });
      try {
        const running = pool.run(narHash(huge), never());
        const queued = pool.run(narHash(objects[0]!), never());
        await waitFor(() => openFileOffsets('self', huge).some((offset) => offset > 0), 'the thread to be reading the huge file');
        const closing = pool.close();
        await assert.rejects(queued, PoolClosedError);
        await assert.rejects(running, PoolClosedError);
        await closing;
        assert.equal(pool.stats().threads, 0);
        await withSafetyNet(threads.allExited(), 'the thread cut short to exit');
      } finally {
        threads.stop();
      }
    });
  });
});
