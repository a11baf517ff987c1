import assert from 'node:assert/strict';
import { SerialQueue } from '../../agent/watch/serial-queue.ts';

/** A promise with its resolve function, to hold a task until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('watch/serial-queue', () => {
  it('runs tasks one at a time, in the order handed over: a later task waits even when it could run at once', async () => {
    const log: string[] = [];
    const queue = new SerialQueue((cause) => assert.fail(String(cause)));
    const held = gate();
    const started = gate();
    queue.enqueue(async () => {
      log.push('a start');
      started.open();
      await held.promise;
      log.push('a end');
    });
    queue.enqueue(() => void log.push('b'));
    queue.enqueue(async () => void log.push('c'));
    await started.promise;
    assert.deepEqual(log, ['a start'], 'b and c wait for a');
    held.open();
    await queue.idle();
    assert.deepEqual(log, ['a start', 'a end', 'b', 'c']);
  });

  it('reports a task that throws or rejects to onError, and goes on with the next', async () => {
    const errors: unknown[] = [];
    const log: string[] = [];
    const queue = new SerialQueue((cause) => errors.push(cause));
    const thrown = new Error('thrown');
    const rejected = new Error('rejected');
    queue.enqueue(() => {
      throw thrown;
    });
    queue.enqueue(async () => Promise.reject(rejected));
    queue.enqueue(() => void log.push('after'));
    await queue.idle();
    assert.deepEqual(errors, [thrown, rejected]);
    assert.deepEqual(log, ['after']);
  });

  it('close lets the running task finish and skips those not started, then and later', async () => {
    const log: string[] = [];
    const queue = new SerialQueue((cause) => assert.fail(String(cause)));
    const held = gate();
    const started = gate();
    queue.enqueue(async () => {
      started.open();
      await held.promise;
      log.push('running');
    });
    queue.enqueue(() => void log.push('queued'));
    await started.promise;
    queue.close();
    queue.close();
    queue.enqueue(() => void log.push('after close'));
    assert.equal(queue.closed, true);
    held.open();
    await queue.idle();
    assert.deepEqual(log, ['running']);
  });

  it('idle resolves at once with nothing queued, and after what was queued before it was asked', async () => {
    const queue = new SerialQueue((cause) => assert.fail(String(cause)));
    await queue.idle();
    const log: string[] = [];
    queue.enqueue(async () => void log.push('one'));
    const idle = queue.idle();
    queue.enqueue(async () => void log.push('two'));
    await idle;
    assert.ok(log.includes('one'));
    await queue.idle();
    assert.deepEqual(log, ['one', 'two']);
  });
});
