import assert from 'node:assert/strict';
import {
  Gate,
  nextAdaptState,
  parseProcIo,
  QUIET_INTERVALS_TO_CUT,
  startAdaptState,
  WINDOW_INTERVALS,
  type AdaptState,
  type ReadCounters,
} from '../../agent/audit/hashing-concurrency.ts';
import { RECORDED } from './support/read-counter-traces.ts';
import { hashingThreads } from '../../agent/audit/pool-threads.ts';

describe('adaptive hashing concurrency', () => {
  const bounds = { min: 4, max: 16 };
  const MiB = 1 << 20;
  const zero: ReadCounters = { bytesRead: 0, storageBytes: 0 };
  /** The limits decided along a trace of /proc/self/io counters, one entry per decision interval. */
  const limitsAlong = (trace: readonly ReadCounters[]): number[] => {
    let state = startAdaptState(bounds.min, trace[0]!);
    return trace.slice(1).map((counters) => (state = nextAdaptState(state, counters, bounds)).limit);
  };
  /** Intervals of reads (MiB read, MiB from storage) as cumulative counters. */
  const trace = (...intervals: Array<[number, number]>): ReadCounters[] => {
    let now = zero;
    return [zero, ...intervals.map(([read, storage]) => (now = { bytesRead: now.bytesRead + read * MiB, storageBytes: now.storageBytes + storage * MiB }))];
  };

  it('goes to the maximum as soon as a window of reads comes mostly from storage', () => {
    assert.deepEqual(limitsAlong(trace([40, 38])), [16]);
    // Directory blocks and read-ahead can make storage bytes exceed the bytes read calls return: still cold.
    assert.deepEqual(limitsAlong(trace([0.2, 0.6], [0.3, 0.6])), [4, 16]);
  });

  it('stays at the minimum on a warm cache, however slowly the reads went (no storage bytes)', () => {
    assert.deepEqual(limitsAlong(trace([300, 0], [1, 0], [0, 0])), [4, 4, 4]);
    // A DB page or one file's read-ahead is noise, and so is one file the kernel evicted among many cached ones.
    assert.deepEqual(limitsAlong(trace([0, 0.5], [10, 0.1])), [4, 4]);
    assert.deepEqual(limitsAlong(trace([10, 0.1], [10, 0.2], [9, 5.5], [10, 0.1], [12, 0.2])), [4, 4, 4, 4, 4]);
  });

  it('halves towards the minimum only after quiet intervals in a row, and a cold interval starts the count again', () => {
    const limits = limitsAlong(trace([10, 10], ...Array.from({ length: WINDOW_INTERVALS + QUIET_INTERVALS_TO_CUT + 2 }, (): [number, number] => [30, 0])));
    assert.equal(limits[0], 16);
    assert.deepEqual(limits.slice(1, QUIET_INTERVALS_TO_CUT), Array<number>(QUIET_INTERVALS_TO_CUT - 1).fill(16));
    assert.deepEqual(limits.slice(QUIET_INTERVALS_TO_CUT, QUIET_INTERVALS_TO_CUT + 3), [8, 4, 4]);
    let state: AdaptState = { ...startAdaptState(16, zero), quietIntervals: QUIET_INTERVALS_TO_CUT - 1 };
    state = nextAdaptState(state, { bytesRead: 10 * MiB, storageBytes: 10 * MiB }, bounds);
    assert.deepEqual([state.limit, state.quietIntervals], [16, 0]);
  });

  it('recorded traces (2-core VM, small-file store, heavy load): warm never raises; cold raises and stays up', () => {
    for (const [name, recorded] of Object.entries(RECORDED.warm))
      assert.ok(
        limitsAlong(recorded).every((limit) => limit === bounds.min),
        `warm ${name}`,
      );
    for (const [name, recorded] of Object.entries(RECORDED.cold)) {
      const limits = limitsAlong(recorded);
      const raised = limits.indexOf(bounds.max);
      assert.ok(raised >= 0 && raised < 25, `cold ${name} raised in the first 25 intervals (at ${raised})`);
      const up = limits.slice(raised).filter((limit) => limit === bounds.max).length;
      assert.ok(up >= 0.9 * (limits.length - raised), `cold ${name} stays at the maximum: ${up} of ${limits.length - raised}`);
    }
  });

  it('reads rchar and read_bytes from /proc/PID/io', () => {
    const text = 'rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 0\nread_bytes: 4096\nwrite_bytes: 0\ncancelled_write_bytes: 0\n';
    assert.deepEqual(parseProcIo(text), { bytesRead: 6976, storageBytes: 4096 });
    assert.equal(parseProcIo('rchar: 12\n'), undefined);
    assert.equal(parseProcIo(''), undefined);
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

  it('auto threads: 2 per core, at least 4, at most 32; a number is taken as is', () => {
    assert.equal(hashingThreads('auto', 1), 4);
    assert.equal(hashingThreads('auto', 2), 4);
    assert.equal(hashingThreads('auto', 4), 8);
    assert.equal(hashingThreads('auto', 16), 32);
    assert.equal(hashingThreads(3, 16), 3);
  });
});
