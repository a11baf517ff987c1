import assert from 'node:assert/strict';
import { PoolOptionsError, resolvePoolOptions } from '../../agent/pool/index.ts';

const machine = { availableParallelism: 6 };

describe('pool/pool-options', () => {
  it('sizes the pool to the machine by default and fills every default', () => {
    const options = resolvePoolOptions({}, machine);
    assert.equal(options.maxThreads, 6);
    assert.equal(options.minThreads, 0);
    assert.equal(options.idleTimeoutMs, 5000);
    assert.equal(options.maxQueue, 1024);
    assert.equal(options.closeGraceMs, 1000);
    assert.equal(options.onWorkerError, undefined);
  });

  it('keeps given values and freezes the result', () => {
    const options = resolvePoolOptions({ maxThreads: 3, minThreads: 2, closeGraceMs: 0 }, machine);
    assert.equal(options.maxThreads, 3);
    assert.equal(options.minThreads, 2);
    assert.equal(options.closeGraceMs, 0);
    assert.ok(Object.isFrozen(options));
  });

  it('never defaults to zero threads', () => {
    assert.equal(resolvePoolOptions({}, { availableParallelism: 0 }).maxThreads, 1);
  });

  const bad: [string, Record<string, unknown>][] = [
    ['maxThreads', { maxThreads: 0 }],
    ['maxThreads', { maxThreads: 2.5 }],
    ['maxThreads', { maxThreads: '4' }],
    ['minThreads', { minThreads: -1 }],
    ['minThreads', { maxThreads: 2, minThreads: 3 }],
    ['idleTimeoutMs', { idleTimeoutMs: Number.NaN }],
    ['maxQueue', { maxQueue: -5 }],
    ['closeGraceMs', { closeGraceMs: Infinity }],
    ['onWorkerError', { onWorkerError: 'log' }],
    ['maxthreads', { maxthreads: 4 }],
  ];
  for (const [field, input] of bad) {
    it(`rejects ${JSON.stringify(input)} naming ${field} and the value`, () => {
      assert.throws(
        () => resolvePoolOptions(input, machine),
        (error: unknown) => {
          assert.ok(error instanceof PoolOptionsError);
          assert.equal(error.code, 'POOL_OPTIONS_INVALID');
          assert.equal(error.field, field);
          assert.equal(error.value, input[field]);
          assert.match(error.message, new RegExp(`^pool option ${field}: got `));
          return true;
        },
      );
    });
  }
});
