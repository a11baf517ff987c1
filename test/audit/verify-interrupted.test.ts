/**
 * Ctrl-C during a long verify: the command stops with a partial report and exit code 130, and no worker thread
 * outlives it (the process exits on its own). The store is small but two objects are 1 TiB sparse files: hashing
 * one would take many minutes, so a worker is busy mid-file when the signal comes, and a thread left running would
 * outlast every wait's safety net by far. Nothing here is timed: each step waits for an event.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import { runVerify } from '../../agent/audit/run-verify.ts';
import type { MapProgress } from '../../agent/pool/map-progress.ts';
import { WorkerPool } from '../../agent/pool/worker-pool.ts';
import { resolveStoreLayout } from '../../agent/store/resolve-store-layout.ts';
import { parseStoreUrl } from '../../agent/store/store-url.ts';
import { CLI_MAIN } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';
import { openFileOffsets, processAlive, threadNames } from '../support/proc.ts';
import { waitFor, withSafetyNet } from '../support/wait-for.ts';
import { WorkerThreadTracker } from '../support/worker-threads.ts';

const SPARSE_BYTES = 1024 ** 4;

describe('verify interrupted', function () {
  this.timeout(120_000);
  let dir: string;
  let store: DemoStore;
  /** The sparse objects in the lower layer. */
  let sparse: string[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-verify-interrupt-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 300, upperPaths: 60, contents: 'mixed' });
    // Two lower objects become huge sparse files (their registration now lies, but nobody gets that far).
    sparse = store.lower.paths.slice(-2).map((storePath) => path.join(store.lower.realStoreDir, path.basename(storePath)));
    for (const file of sparse) {
      fs.rmSync(file, { recursive: true, force: true });
      fs.writeFileSync(file, '');
      fs.truncateSync(file, SPARSE_BYTES);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** True once process `pid` has read into one of the sparse objects: a worker is mid-file in it. */
  const hashingSparse = (pid: number | 'self'): boolean => sparse.some((file) => openFileOffsets(pid, file).some((offset) => offset > 0));

  it('SIGINT to `overlay-warden verify` mid-hash: it exits by itself with 130 and a partial JSON report', async () => {
    // No --threads: the adaptive mode, with its second pool, must stop as well.
    const child = spawn(process.execPath, [CLI_MAIN, 'verify', '--lower', '--json', '--store', store.storeUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`verify ended before the interrupt: ${stderr}`);
        return hashingSparse(child.pid!);
      }, 'verify to be hashing a sparse object');
      assert.ok(threadNames(child.pid!).includes('WorkerThread'), 'worker threads were running when interrupted');
      child.kill('SIGINT');
      const { code, signal } = await withSafetyNet(exited, 'verify to exit after SIGINT', { describe: () => stderr });
      assert.equal(signal, null, 'it exited by itself');
      assert.equal(code, 130, stderr);
      assert.equal(processAlive(child.pid!), false);
      const report = reportOf(stdout, 'verify');
      assert.equal(report.partial, true);
      assert.equal(report.planned, 300);
      assert.equal(report.interruptedIn, 'hashing');
      assert.ok(report.checked < report.planned - 1, `checked ${report.checked} of ${report.planned}: the sparse objects never finish`);
      assert.deepEqual(report.findings, [], 'nothing wrong was found in what was checked');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('in process: aborting after progress resolves with a partial report that counts it, and every thread exits', async () => {
    const layout = resolveStoreLayout(parseStoreUrl(store.storeUrl));
    const threads = new WorkerThreadTracker();
    const pool = new WorkerPool({ maxThreads: 2 });
    try {
      const controller = new AbortController();
      const progress: MapProgress[] = [];
      const running = runVerify({ layout, signal: controller.signal, pool, scope: 'lower', onProgress: (p) => progress.push(p) });
      // Progress made (a batch was hashed and reported), and a thread is now stuck in a sparse object.
      await waitFor(() => progress.some((p) => p.done > 0) && hashingSparse('self'), 'a progress event and a thread hashing a sparse object');
      const seen = Math.max(...progress.map((p) => p.done));
      controller.abort(new Error('interrupted'));
      const report = await withSafetyNet(running, 'verify to resolve after the abort');
      assert.equal(report.partial, true);
      assert.ok(report.checked >= seen, `checked ${report.checked}, progress said ${seen}`);
      assert.ok(report.checked < report.total - 1, `checked ${report.checked} of ${report.total}: the sparse objects never finish`);
      assert.deepEqual(report.findings, []);
      await pool.close();
      assert.equal(pool.stats().threads, 0);
      assert.ok(threads.threads.length > 0);
      await withSafetyNet(threads.allExited(), 'every worker thread to exit');
      for (const file of sparse) assert.deepEqual(openFileOffsets('self', file), [], `${file} is closed`);
    } finally {
      threads.stop();
      await pool.close();
    }
  });
});
