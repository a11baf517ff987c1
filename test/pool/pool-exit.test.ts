import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const POOL_URL = pathToFileURL(path.resolve(import.meta.dirname, '../../agent/pool/index.ts')).href;

/** A program that uses the pool, aborts a run part-way, optionally closes, and never calls process.exit. */
const CHILD = `
import { WorkerPool } from ${JSON.stringify(POOL_URL)};
const [mode, ...files] = process.argv.slice(2);
const pool = new WorkerPool({ maxThreads: 2, minThreads: 2 });
const controller = new AbortController();
let done = 0;
let error;
try {
  for await (const outcome of pool.map(files, (p) => ({ type: 'nar-hash', path: p }), { signal: controller.signal })) {
    if (++done === 3) controller.abort();
  }
} catch (e) {
  error = e.code;
}
if (mode === 'close') await pool.close();
console.log(JSON.stringify({ done, error, threads: pool.stats().threads }));
`;

describe('pool: a process using the pool exits by itself', function () {
  let dir: string;
  let files: string[];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-pool-exit-'));
    fs.writeFileSync(path.join(dir, 'child.ts'), CHILD);
    files = Array.from({ length: 40 }, (_, i) => {
      const p = path.join(dir, `f${i}`);
      fs.writeFileSync(p, String(i));
      fs.truncateSync(p, 16 << 20);
      return p;
    });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const runChild = (mode: string) => {
    const child = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(dir, 'child.ts'), mode, ...files], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(child.error, undefined, `the child did not exit by itself: ${String(child.error)}`);
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout.trim()) as { done: number; error: string; threads: number };
  };

  it('after an aborted run and close(): no threads left, and the process ends', () => {
    assert.deepEqual(runChild('close'), { done: 3, error: 'POOL_ABORTED', threads: 0 });
  });

  it('even without close(): idle threads do not hold the process open', () => {
    const report = runChild('no-close');
    assert.equal(report.error, 'POOL_ABORTED');
    assert.ok(report.threads > 0, 'threads were still alive when the program finished');
  });
});
