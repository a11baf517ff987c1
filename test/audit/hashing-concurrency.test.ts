import assert from 'node:assert/strict';
import { Gate, nextConcurrency, QUIET_INTERVALS_TO_CUT, taskState } from '../../agent/audit/hashing-concurrency.ts';
import { hashingThreads } from '../../agent/audit/pool-threads.ts';

describe('adaptive hashing concurrency', () => {
  const bounds = { min: 2, max: 16 };

  it('goes to the maximum while threads wait on the disk, halves towards the cores only after quiet intervals in a row', () => {
    const waiting = (waitingOnDisk: number) => ({ waitingOnDisk, quietIntervals: 0 });
    const quiet = (quietIntervals: number) => ({ waitingOnDisk: 0, quietIntervals });
    assert.equal(nextConcurrency(2, waiting(1.5), bounds), 16);
    assert.equal(nextConcurrency(4, waiting(3), bounds), 16);
    assert.equal(nextConcurrency(16, waiting(12), bounds), 16);
    // One quiet interval, or a few, is noise with a cold cache: no cut until QUIET_INTERVALS_TO_CUT in a row.
    for (let n = 1; n < QUIET_INTERVALS_TO_CUT; n++) assert.equal(nextConcurrency(16, quiet(n), bounds), 16);
    assert.equal(nextConcurrency(16, quiet(QUIET_INTERVALS_TO_CUT), bounds), 8);
    assert.equal(nextConcurrency(4, quiet(QUIET_INTERVALS_TO_CUT + 3), bounds), 2);
    assert.equal(nextConcurrency(2, quiet(QUIET_INTERVALS_TO_CUT), bounds), 2);
    // A low share of waiting threads keeps the concurrency where it is.
    assert.equal(nextConcurrency(8, waiting(1), bounds), 8);
    assert.equal(nextConcurrency(16, waiting(0.2), bounds), 16);
    assert.equal(nextConcurrency(2, waiting(0.2), bounds), 2);
  });

  it('reads the state letter after the command name, whatever the name holds', () => {
    assert.equal(taskState('1234 (WorkerThread) D 1 2 3'), 'D');
    assert.equal(taskState('1234 (odd) name)) R 1 2 3'), 'R');
    assert.equal(taskState('garbage'), undefined);
  });

  it('the gate admits up to its limit, follows limit changes, and lets aborted waiters go', async () => {
    const gate = new Gate(1);
    const signal = new AbortController().signal;
    await gate.enter(signal);
    let second = false;
    const waiting = gate.enter(signal).then(() => (second = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(second, false);
    gate.setLimit(2);
    await waiting;
    assert.equal(gate.inside, 2);
    const abort = new AbortController();
    const third = gate.enter(abort.signal);
    abort.abort(new Error('stop'));
    await assert.rejects(third, /stop/);
    gate.leave();
    gate.leave();
    assert.equal(gate.inside, 0);
  });

  it('auto threads: 4 per core, at least 4, at most 32; a number is taken as is', () => {
    assert.equal(hashingThreads('auto', 1), 4);
    assert.equal(hashingThreads('auto', 2), 8);
    assert.equal(hashingThreads('auto', 16), 32);
    assert.equal(hashingThreads(3, 16), 3);
  });
});
