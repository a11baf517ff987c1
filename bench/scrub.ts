/**
 * Benchmark: what scrubbing in chunks costs over one verify. On a demo store (5,000 upper paths, mostly small files),
 * one `runVerify` of the upper DB on one thread, then one scheduled scrub pass on one thread without a read limit in
 * chunks of 256 and of 64 paths (each chunk opens the DBs, lists the upper layer and plans its paths): wall time of
 * each and the cost per chunk. Both read the same files, warm in the page cache after the first run.
 */
// Usage: npm run bench:scrub [-- --upper N]
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runVerify } from '../agent/audit/index.ts';
import type { FindingsEvent } from '../agent/agent-status.ts';
import { buildDemoStore } from '../agent/demo/store-builder.ts';
import { WorkerPool } from '../agent/pool/index.ts';
import { Scheduler, type Clock } from '../agent/schedule/index.ts';
import { resolveStoreLayout } from '../agent/store/resolve-store-layout.ts';
import { parseStoreUrl } from '../agent/store/store-url.ts';

const { values: args } = parseArgs({ options: { upper: { type: 'string', default: '5000' } } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bench-scrub-'));
const quiet = { error: (m: string) => console.error(m), warn: () => undefined, info: () => undefined, debug: () => undefined };
// A clock whose waits for work to fall due take no time: the pass starts at once, and only its own work is timed.
const base = Date.now();
let skipped = 0;
const clock: Clock = {
  now: () => performance.now() + skipped,
  sleep: async (ms) => {
    skipped += ms;
  },
};
try {
  const store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 2000, upperPaths: Number(args.upper), contents: 'mostly-files' });
  const layout = resolveStoreLayout(parseStoreUrl(store.storeUrl));
  const pool = new WorkerPool({ maxThreads: 1 });
  let started = performance.now();
  const report = await runVerify({ layout, signal: new AbortController().signal, pool, scope: 'upper' });
  const verifySeconds = (performance.now() - started) / 1000;
  await pool.close();
  console.log(`verify (upper, 1 thread): ${report.checked} paths, ${report.bytes} bytes in ${verifySeconds.toFixed(2)} s`);
  for (const paths of [256, 64]) {
    const stateDir = path.join(dir, `state-${paths}`);
    fs.mkdirSync(stateDir, { mode: 0o700 });
    const host = new EventEmitter<{ drift: [never]; findings: [FindingsEvent] }>();
    const scheduler = new Scheduler({
      host,
      layout,
      stateDir,
      settings: { audit: { afterDrift: 'off', maxDelay: 1000, every: 'off' }, scrub: { every: 1000, maxReadMBps: 'off', threads: 1, layers: 'upper' } },
      logger: quiet,
      clock,
      wallClock: () => new Date(base + clock.now()),
      chunkLimits: { paths, bytes: 2 ** 40 },
    });
    const done = new Promise((resolve) => host.once('findings', resolve));
    started = performance.now();
    scheduler.start();
    await done;
    const seconds = (performance.now() - started) / 1000;
    const last = scheduler.status().scrub.lastCompleted;
    await scheduler.close();
    const chunks = Math.ceil((last?.paths ?? 0) / paths);
    console.log(
      `scrub pass in chunks of ${paths}: ${last?.paths} paths in ${seconds.toFixed(2)} s, ${chunks} chunks, ` +
        `${(((seconds - verifySeconds) / chunks) * 1000).toFixed(0)} ms per chunk over one verify`,
    );
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
