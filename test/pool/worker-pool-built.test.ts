import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { narHashOfPathSync } from '../../agent/store/nar.ts';
import { builtAgentDir, ROOT } from '../support/built-dist.ts';

/**
 * After `tsc` the pool must find `worker.js` beside `worker-pool.js`: a task run through the JavaScript emitted
 * into dist/ (built by `npm test` before the tests).
 */
describe('pool: built with tsc into dist/', function () {
  it('runs tasks from the emitted .js files', () => {
    const pool = path.join(builtAgentDir(), 'pool');
    assert.ok(fs.existsSync(path.join(pool, 'worker.js')));
    assert.ok(!fs.existsSync(path.join(pool, 'worker.ts')));
    const script = `
      const { WorkerPool } = await import(${JSON.stringify(pathToFileURL(path.join(pool, 'index.js')).href)});
      const pool = new WorkerPool({ maxThreads: 1 });
      const result = await pool.run({ type: 'nar-hash', path: process.argv[1] }, new AbortController().signal);
      await pool.close();
      console.log(JSON.stringify(result));`;
    const target = path.join(ROOT, 'agent/pool');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, target], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const { hash, narSize } = narHashOfPathSync(target);
    assert.deepEqual(JSON.parse(run.stdout), { type: 'nar-hash', hash: hash.toString('hex'), narSize });
  });
});
