/** The `audit` and `scrub` rows of `overlay-warden status` (pure): what an operator reads about scheduled work. */
import assert from 'node:assert/strict';
import type { ScheduleStatus } from '../../agent/schedule/index.ts';
import { scheduleRows } from '../../agent/cli/status-schedule-rows.ts';

const IDLE: ScheduleStatus = {
  audit: {
    state: 'idle',
    afterDrift: { settleMs: 10_000, maxDelayMs: 300_000 },
    everyMs: 86_400_000,
    nextAt: '2026-12-07T10:00:00.000Z',
    pendingSince: undefined,
    runs: 1,
    last: { at: '2026-12-06T10:00:00.000Z', reason: 'every', seconds: 0.5, findings: 2, errors: 1, error: undefined },
  },
  scrub: {
    state: 'idle',
    everyMs: 604_800_000,
    layers: 'upper',
    maxReadMBps: 50,
    threads: 1,
    nextAt: '2026-12-13T10:00:00.000Z',
    pass: undefined,
    lastCompleted: undefined,
    lastError: undefined,
    budget: { grantedBytes: 0, waitedMs: 0 },
  },
  pool: { threads: 0, busy: 0, queued: 0 },
};

describe('status rows of scheduled work', () => {
  it('idle: when each runs next, the last audit, the scrub budget', () => {
    assert.deepEqual(scheduleRows(IDLE), [
      ['audit', 'next 2026-12-07T10:00:00.000Z; last 2026-12-06T10:00:00.000Z (every): 2 findings, 1 error'],
      ['scrub', 'next 2026-12-13T10:00:00.000Z (every 7d, upper, ≤ 50 MB/s, 1 thread)'],
    ]);
  });

  it('mid-pass: progress, bytes, findings so far, eta, and the pool', () => {
    const status: ScheduleStatus = {
      ...IDLE,
      audit: { ...IDLE.audit, state: 'pending', pendingSince: '2026-12-06T11:00:00.000Z', nextAt: '2026-12-06T11:00:10.000Z' },
      scrub: {
        ...IDLE.scrub,
        state: 'running',
        pass: {
          startedAt: '2026-12-06T09:00:00.000Z',
          layer: 'upper',
          pathsDone: 250,
          pathsTotal: 1000,
          bytes: 3 * 2 ** 30,
          findings: 0,
          eta: '2026-12-06T12:00:00.000Z',
        },
        lastCompleted: { at: '2026-11-29T09:00:00.000Z', startedAt: '2026-11-29T08:00:00.000Z', paths: 990, bytes: 1, findings: 1 },
      },
      pool: { threads: 1, busy: 1, queued: 1 },
    };
    assert.deepEqual(scheduleRows(status), [
      [
        'audit',
        'lower store changed at 2026-12-06T11:00:00.000Z, audit due 2026-12-06T11:00:10.000Z; last 2026-12-06T10:00:00.000Z (every): 2 findings, 1 error',
      ],
      [
        'scrub',
        'running (≤ 50 MB/s, 1 thread): 250 of 1000 paths (25%), 3.00 GiB, 0 findings so far, started 2026-12-06T09:00:00.000Z, eta 2026-12-06T12:00:00.000Z; last completed 2026-11-29T09:00:00.000Z: 990 paths, 1 finding',
      ],
      ['scrub pool', '1 thread, 1 busy, 1 queued'],
    ]);
  });

  it('off, and a failing chunk being retried', () => {
    const rows = scheduleRows({ ...IDLE, scrub: { ...IDLE.scrub, state: 'off', everyMs: 'off' } });
    assert.deepEqual(rows[1], ['scrub', 'off']);
    const retrying = scheduleRows({ ...IDLE, scrub: { ...IDLE.scrub, state: 'retrying', lastError: 'the lower DB is locked' } });
    assert.match(retrying[1]![1], /; retrying after: the lower DB is locked$/);
  });
});
