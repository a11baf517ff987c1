/**
 * Ctrl-C during a long verify: the command stops within moments with a partial report and exit code 130, and no
 * worker thread outlives it (the process exits on its own). The store is small but two objects are 20 GiB sparse
 * files, so hashing them would take minutes and a worker is busy mid-file when the signal comes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import { runVerify } from '../../agent/audit/run-verify.ts';
import { WorkerPool } from '../../agent/pool/worker-pool.ts';
import { resolveStoreLayout } from '../../agent/store/resolve-store-layout.ts';
import { parseStoreUrl } from '../../agent/store/store-url.ts';
import { CLI_MAIN } from '../support/cli-run.ts';

const SPARSE_BYTES = 20 * 1024 ** 3;

describe('verify interrupted', function () {
  this.timeout(120_000);
  let dir: string;
  let store: DemoStore;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-verify-interrupt-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 300, upperPaths: 60, contents: 'mixed' });
    // Two lower objects become huge sparse files (their registration now lies, but nobody gets that far).
    for (const storePath of store.lower.paths.slice(-2)) {
      const file = path.join(store.lower.realStoreDir, path.basename(storePath));
      fs.rmSync(file, { recursive: true, force: true });
      fs.writeFileSync(file, '');
      fs.truncateSync(file, SPARSE_BYTES);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('SIGINT to `overlay-warden verify` ends it within a second: partial JSON report, exit 130, no thread left behind', async () => {
    // No --threads: the adaptive mode, with its second pool, must stop as promptly.
    const child = spawn(process.execPath, [CLI_MAIN, 'verify', '--lower', '--json', '--store', store.storeUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
    // Long enough to start, read the DB, hash the small objects and get stuck in the sparse ones.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(child.exitCode, null, `verify ended before the interrupt: ${stderr}`);
    const threads = fs.readdirSync(`/proc/${child.pid}/task`).length;
    const sent = performance.now();
    child.kill('SIGINT');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const { code, signal, at } = await exited;
    clearTimeout(timeout);
    assert.equal(signal, null, 'it exited by itself (a lingering worker thread would keep it alive)');
    assert.ok(at - sent < 1000, `stopped ${(at - sent).toFixed(0)} ms after SIGINT`);
    assert.equal(code, 130, stderr);
    const report = JSON.parse(stdout) as { partial: boolean; checked: number; total: number; findings: unknown[] };
    assert.equal(report.partial, true);
    assert.equal(report.total, 300);
    assert.ok(report.checked >= 250 && report.checked < report.total, `checked ${report.checked} of ${report.total}`);
    assert.deepEqual(report.findings, [], 'nothing wrong was found in what was checked');
    assert.ok(threads > 2, 'worker threads were running when interrupted');
  });

  it('in process: aborting resolves with a partial report and closing the pool leaves no thread', async () => {
    const layout = resolveStoreLayout(parseStoreUrl(store.storeUrl));
    const pool = new WorkerPool({ maxThreads: 2 });
    const controller = new AbortController();
    const running = runVerify({ layout, signal: controller.signal, pool, scope: 'lower' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(pool.stats().threads > 0);
    const aborted = performance.now();
    controller.abort(new Error('interrupted'));
    const report = await running;
    assert.ok(performance.now() - aborted < 1000);
    assert.equal(report.partial, true);
    assert.ok(report.checked < report.total);
    await pool.close();
    assert.equal(pool.stats().threads, 0);
  });
});
