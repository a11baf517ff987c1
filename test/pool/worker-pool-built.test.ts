import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { narHashOfPathSync } from '../../agent/store/nar.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * After `tsc` the pool must find `worker.js` beside `worker-pool.js`. Compiles only the pool
 * and what it imports (other modules may be mid-change), with the build settings, into a
 * temporary outDir, and runs a task through the emitted JavaScript.
 */
describe('pool: built with tsc into dist/', function () {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-pool-built-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs tasks from the emitted .js files', () => {
    const outDir = path.join(dir, 'dist');
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: path.join(ROOT, 'tsconfig.build.json'),
        compilerOptions: { outDir, rootDir: ROOT, typeRoots: [path.join(ROOT, 'node_modules/@types')], sourceMap: false },
        files: [path.join(ROOT, 'agent/pool/index.ts')],
        include: [],
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    assert.ok(fs.existsSync(path.join(outDir, 'agent/pool/worker.js')));
    assert.ok(!fs.existsSync(path.join(outDir, 'agent/pool/worker.ts')));
    // The emitted ESM needs its package type and the project's dependencies.
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    fs.writeFileSync(
      path.join(dir, 'run.js'),
      `import { WorkerPool } from './dist/agent/pool/index.js';
const pool = new WorkerPool({ maxThreads: 1 });
const result = await pool.run({ type: 'nar-hash', path: process.argv[2] }, new AbortController().signal);
await pool.close();
console.log(JSON.stringify(result));`,
    );
    const target = path.join(ROOT, 'agent/pool');
    const run = spawnSync(process.execPath, [path.join(dir, 'run.js'), target], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const { hash, narSize } = narHashOfPathSync(target);
    assert.deepEqual(JSON.parse(run.stdout), { type: 'nar-hash', hash: hash.toString('hex'), narSize });
  });
});
