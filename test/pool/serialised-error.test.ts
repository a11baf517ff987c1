import assert from 'node:assert/strict';
import { WardenError } from '../../agent/errors/index.ts';
import { PoolTaskError, type PoolTask, rebuildTaskError, serialiseError } from '../../agent/pool/index.ts';

/** What a thread boundary does to the data (postMessage uses structured clone). */
const acrossThreads = <T>(value: T): T => structuredClone(value);

const task: PoolTask = { type: 'nar-hash', path: '/upper/abc-hello' };

describe('pool/serialised-error', () => {
  it('carries a WardenError code, message, evidence, hint and cause, and names the task', () => {
    const io = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read', path: '/upper/abc-hello/bin/x' });
    const original = new WardenError('NAR_IO_ERROR', "cannot read '/upper/abc-hello/bin/x': EIO", {
      evidence: { path: '/upper/abc-hello/bin/x', errno: 'EIO' },
      hint: 'check the disk',
      cause: io,
    });
    const rebuilt = rebuildTaskError(acrossThreads(serialiseError(original)), task);
    assert.ok(rebuilt instanceof PoolTaskError);
    assert.ok(rebuilt instanceof WardenError);
    assert.equal(rebuilt.code, 'NAR_IO_ERROR');
    assert.equal(rebuilt.message, "nar-hash /upper/abc-hello: cannot read '/upper/abc-hello/bin/x': EIO");
    assert.deepEqual(rebuilt.evidence, { path: '/upper/abc-hello/bin/x', errno: 'EIO', task, taskPath: '/upper/abc-hello' });
    assert.equal(rebuilt.hint, 'check the disk');
    assert.equal(rebuilt.remoteName, 'WardenError');
    assert.ok(rebuilt.remoteStack?.includes('serialised-error.test.ts'));
    const cause = rebuilt.cause;
    assert.ok(cause instanceof WardenError);
    assert.equal(cause.code, 'POOL_TASK_IO_ERROR');
    assert.deepEqual(cause.evidence, { errno: 'EIO', syscall: 'read', path: '/upper/abc-hello/bin/x' });
  });

  it('gives a bare Node system error the IO code with errno, syscall and path', () => {
    const error = Object.assign(new Error('ENOTDIR: not a directory'), { code: 'ENOTDIR', syscall: 'lstat', path: '/l/x/y' });
    const s = serialiseError(error);
    assert.equal(s.code, 'POOL_TASK_IO_ERROR');
    assert.deepEqual(s.evidence, { errno: 'ENOTDIR', syscall: 'lstat', path: '/l/x/y' });
  });

  it('gives anything else the generic failure code', () => {
    assert.equal(serialiseError(new TypeError('x is undefined')).code, 'POOL_TASK_FAILED');
    assert.equal(serialiseError(new TypeError('x')).name, 'TypeError');
    const thrownString = serialiseError('boom');
    assert.deepEqual([thrownString.code, thrownString.message, thrownString.name], ['POOL_TASK_FAILED', 'boom', 'string']);
  });

  it('turns evidence that cannot cross threads into strings instead of failing', () => {
    const error = new WardenError('TEST_CODE', 'odd evidence', { evidence: { fn: () => 1, n: 3 } });
    const s = acrossThreads(serialiseError(error));
    assert.equal(s.evidence['n'], 3);
    assert.equal(typeof s.evidence['fn'], 'string');
  });

  it('cuts a cause cycle off', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    let depth = 0;
    for (let s = serialiseError(a); s.cause !== undefined; s = s.cause) depth++;
    assert.equal(depth, 4);
  });
});
