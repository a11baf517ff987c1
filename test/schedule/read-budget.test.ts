/** The scrub's read budget, on an injected clock: what it grants never outruns the rate, and it waits no more than it must. */
import assert from 'node:assert/strict';
import { ReadBudget, takeFromBucket, type Clock } from '../../agent/schedule/index.ts';

/** A clock that moves only when slept on, recording every sleep. */
function fakeClock(): Clock & { sleeps: number[]; t: number } {
  const clock = {
    t: 1000,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number, signal: AbortSignal) => {
      signal.throwIfAborted();
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

describe('scrub read budget (token bucket)', () => {
  it('takeFromBucket: fills at the rate up to the burst, and a debt is a wait of debt / rate', () => {
    const rate = { bytesPerSecond: 1000, burstBytes: 1000 };
    assert.deepEqual(takeFromBucket({ tokens: 1000, at: 0 }, 400, 0, rate), { bucket: { tokens: 600, at: 0 }, waitMs: 0 });
    assert.deepEqual(takeFromBucket({ tokens: 600, at: 0 }, 1600, 0, rate), { bucket: { tokens: -1000, at: 0 }, waitMs: 1000 });
    // Ten quiet seconds fill the bucket to the burst, not beyond.
    assert.deepEqual(takeFromBucket({ tokens: 0, at: 0 }, 1500, 10_000, rate), { bucket: { tokens: -500, at: 10_000 }, waitMs: 500 });
    // A debt is paid off by time passing: after it, the next take starts from zero.
    assert.deepEqual(takeFromBucket({ tokens: -1000, at: 0 }, 0, 1000, rate), { bucket: { tokens: 0, at: 1000 }, waitMs: 0 });
  });

  it('over a run of uneven chunks, bytes granted by any time never exceed burst + rate × elapsed, and the waits add up to exactly what the rate calls for', async () => {
    const clock = fakeClock();
    const bytesPerSecond = 50e6;
    const budget = new ReadBudget({ bytesPerSecond, clock });
    const start = clock.now();
    const chunks = [10e6, 120e6, 1, 75e6, 3e6, 200e6, 50e6, 49e6, 0, 80e6];
    let granted = 0;
    for (const bytes of chunks) {
      await budget.take(bytes, new AbortController().signal);
      granted += bytes;
      // The reads of a granted chunk start now: what has been granted must fit the budget so far.
      assert.ok(granted <= bytesPerSecond + (bytesPerSecond * (clock.now() - start)) / 1000 + 1e-6, `${granted} bytes granted by ${clock.now() - start} ms`);
    }
    const total = chunks.reduce((a, b) => a + b, 0);
    // No time passed but the waits: all but the first second's burst had to be waited for.
    const expectedMs = ((total - bytesPerSecond) * 1000) / bytesPerSecond;
    assert.ok(Math.abs(clock.now() - start - expectedMs) < 1e-6, `waited ${clock.now() - start} ms, expected ${expectedMs}`);
    assert.deepEqual(budget.stats(), { grantedBytes: total, waitedMs: clock.now() - start, waiting: false });
  });

  it('time passing between chunks (hashing, other work) counts towards the budget: no wait when the reads are slower than the rate', async () => {
    const clock = fakeClock();
    const budget = new ReadBudget({ bytesPerSecond: 1e6, clock });
    for (let i = 0; i < 5; i++) {
      await budget.take(1e6, new AbortController().signal);
      clock.t += 1500; // hashing a chunk took longer than the budget asks
    }
    assert.deepEqual(clock.sleeps, []);
  });

  it('without a rate it never waits; an aborted signal rejects at once', async () => {
    const clock = fakeClock();
    const budget = new ReadBudget({ bytesPerSecond: undefined, clock });
    await budget.take(1e12, new AbortController().signal);
    assert.deepEqual(clock.sleeps, []);
    const aborted = AbortSignal.abort(new Error('stop'));
    await assert.rejects(budget.take(1, aborted), /stop/);
  });
});
