import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeTask, resultBytes, taskSubject, WorkerPool } from '../../agent/pool/index.ts';
import { runNarHashBatch } from '../../agent/pool/tasks/nar-hash-batch.ts';
import { narHashOfPathSync } from '../../agent/store/nar.ts';

describe('pool/nar-hash-batch', () => {
  let dir: string;
  let paths: string[];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-batch-'));
    fs.writeFileSync(path.join(dir, 'aaa-file'), 'hello\n');
    fs.mkdirSync(path.join(dir, 'bbb-tree/bin'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'bbb-tree/bin/tool'), Buffer.alloc(70_000, 3), { mode: 0o755 });
    fs.symlinkSync('bin/tool', path.join(dir, 'bbb-tree/tool'));
    paths = [path.join(dir, 'aaa-file'), path.join(dir, 'zzz-missing'), path.join(dir, 'bbb-tree')];
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const direct = (p: string) => {
    const { hash, narSize } = narHashOfPathSync(p);
    return { ok: true, hash: hash.toString('hex'), narSize };
  };

  it('hashes each path in order as narHashOfPathSync does; a failing path is an error entry and the rest go on', () => {
    const { type, results } = runNarHashBatch({ type: 'nar-hash-batch', paths });
    assert.equal(type, 'nar-hash-batch');
    assert.equal(results.length, 3);
    assert.deepEqual(results[0], direct(paths[0]!));
    assert.deepEqual(results[2], direct(paths[2]!));
    const failed = results[1]!;
    assert.equal(failed.ok, false);
    if (failed.ok) return;
    assert.equal(failed.error.code, 'NAR_IO_ERROR');
    assert.equal(failed.error.evidence['errno'], 'ENOENT');
    assert.equal(failed.error.evidence['path'], paths[1]);
  });

  it('runs on the pool, and counts the bytes of the paths that were hashed', async () => {
    const pool = new WorkerPool({ maxThreads: 1 });
    try {
      const result = await pool.run({ type: 'nar-hash-batch', paths }, new AbortController().signal);
      assert.equal(result.type, 'nar-hash-batch');
      assert.deepEqual(result.results[0], direct(paths[0]!));
      assert.deepEqual(result.results[2], direct(paths[2]!));
      const failed = result.results[1]!;
      assert.equal(failed.ok ? undefined : failed.error.code, 'NAR_IO_ERROR');
      assert.equal(resultBytes(result), direct(paths[0]!).narSize + direct(paths[2]!).narSize);
    } finally {
      await pool.close();
    }
  });

  it('a merged source: what OverlayFS serves for the upper object over the lower one, and the lower one alone', () => {
    const upper = path.join(dir, 'upper/ccc-tree');
    const lower = path.join(dir, 'lower/ccc-tree');
    fs.mkdirSync(upper, { recursive: true });
    fs.cpSync(path.join(dir, 'bbb-tree'), lower, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(upper, 'added'), 'upper only\n');
    const served = path.join(dir, 'served');
    fs.cpSync(lower, served, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(served, 'added'), 'upper only\n');
    const nowhere = path.join(dir, 'lower/nothing-here');
    const { results } = runNarHashBatch({
      type: 'nar-hash-batch',
      paths: [
        { upper, lower },
        { upper: paths[0]!, lower: nowhere },
      ],
    });
    const { ok, ...lowerDigest } = direct(lower);
    assert.equal(ok, true);
    assert.deepEqual(results[0], { ...direct(served), merged: true, lower: { kind: 'hashed', ...lowerDigest } });
    assert.deepEqual(results[1], { ...direct(paths[0]!), merged: false, lower: { kind: 'absent' } });
    assert.equal(taskSubject({ type: 'nar-hash-batch', paths: [{ upper, lower }] }), upper);
  });

  it('is named by its first path in messages', () => {
    const task = { type: 'nar-hash-batch', paths } as const;
    assert.equal(taskSubject(task), paths[0]);
    assert.equal(describeTask(task), `nar-hash-batch ${paths[0]} (+2 more)`);
  });
});
