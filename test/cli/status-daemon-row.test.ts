/** The `lower daemon` row of `overlay-warden status`, with literal states. */
import assert from 'node:assert/strict';
import { lowerDaemonRows } from '../../agent/cli/status-daemon-row.ts';
import type { LowerDaemonStatus } from '../../agent/watch/index.ts';

const BASE: LowerDaemonStatus = {
  socket: '/run/snix/daemon.sock',
  state: 'up',
  since: 'T0',
  lastError: null,
  protocol: '1.34',
  nixVersion: '2.8.0',
  validPaths: 1234,
  lastAnswerAt: 'T1',
  failures: 0,
  nextAttemptAt: 'T2',
};

describe('status: the lower daemon row', () => {
  it('no row for a lower store that is no daemon', () => {
    assert.deepEqual(lowerDaemonRows(undefined), []);
  });

  it('up: since when, protocol, Nix version and valid paths', () => {
    assert.deepEqual(lowerDaemonRows(BASE), [['lower daemon', '/run/snix/daemon.sock up since T0 (protocol 1.34, Nix 2.8.0, 1234 valid paths)']]);
    assert.deepEqual(lowerDaemonRows({ ...BASE, nixVersion: null }), [['lower daemon', '/run/snix/daemon.sock up since T0 (protocol 1.34, 1234 valid paths)']]);
  });

  it('down: since when, the error code and message, failed attempts and the next one', () => {
    const down: LowerDaemonStatus = {
      ...BASE,
      state: 'down',
      since: 'T3',
      lastError: { code: 'DAEMON_TIMED_OUT', message: 'handshake timed out', at: 'T4' },
      failures: 3,
      nextAttemptAt: 'T5',
    };
    assert.deepEqual(lowerDaemonRows(down), [
      ['lower daemon', '/run/snix/daemon.sock down since T3: DAEMON_TIMED_OUT: handshake timed out (3 failed attempts, next at T5)'],
    ]);
    assert.match(lowerDaemonRows({ ...down, failures: 1 })[0]![1], /\(1 failed attempt, next at T5\)$/);
  });

  it('starting: not reached yet', () => {
    assert.deepEqual(lowerDaemonRows({ ...BASE, state: 'starting', since: null }), [['lower daemon', '/run/snix/daemon.sock not reached yet']]);
  });
});
