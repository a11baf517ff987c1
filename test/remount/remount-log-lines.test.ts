import assert from 'node:assert/strict';
import { finding } from '../../agent/findings/index.ts';
import {
  remountLogLine,
  remountRequestLogLine,
  restoredRemountLogLine,
  type AttemptReport,
  type RemountEvent,
  type RemountNeeded,
} from '../../agent/remount/index.ts';

const report = (stderr: string): AttemptReport => ({
  attempt: 1,
  argv: ['/hooks/remount', '/nix/store'],
  exitCode: 1,
  signal: undefined,
  timedOut: false,
  durationMs: 42,
  stdout: { text: '', droppedBytes: 0 },
  stderr: { text: stderr, droppedBytes: 0 },
});

describe('remount/remountLogLine', () => {
  const cases: ReadonlyArray<{ readonly event: RemountEvent; readonly level: string; readonly message: string; readonly fields: Record<string, unknown> }> = [
    {
      event: { type: 'remount-requested', request: { source: 'manual', by: 'root' }, ticket: 1, coalesced: false },
      level: 'debug',
      message: 'remount scheduled: manual request by root',
      fields: { remount: 'remount-requested', ticket: 1, coalesced: false },
    },
    {
      event: { type: 'remount-requested', request: { source: 'lower-grew', paths: ['/nix/store/a'] }, ticket: 2, coalesced: true },
      level: 'debug',
      message: 'remount request joined the scheduled run: lower store grew by 1 path',
      fields: { remount: 'remount-requested', ticket: 2, coalesced: true },
    },
    {
      event: { type: 'remount-started', run: 3, attempt: 2, argv: ['/hooks/remount', '/nix/store'], requests: 1 },
      level: 'info',
      message: 'remount run 3, attempt 2: /hooks/remount /nix/store (answers 1 request)',
      fields: { remount: 'remount-started', run: 3, attempt: 2, requests: 1 },
    },
    {
      event: { type: 'remount-succeeded', run: 1, attempt: 1, report: report('') },
      level: 'info',
      message: 'remount command exited 0 in 42 ms; checking the view',
      fields: { remount: 'remount-succeeded', run: 1, attempt: 1 },
    },
    {
      event: {
        type: 'remount-failed',
        run: 1,
        attempt: 1,
        error: { code: 'REMOUNT_COMMAND_FAILED', message: 'it exited 1' },
        retryInMs: 2000,
        report: report('no such mount\n'),
      },
      level: 'error',
      message: 'remount attempt 1 failed: it exited 1; retrying in 2000 ms',
      fields: { remount: 'remount-failed', run: 1, attempt: 1, retryInMs: 2000, code: 'REMOUNT_COMMAND_FAILED', hint: undefined, stderr: 'no such mount\n' },
    },
    {
      event: {
        type: 'remount-failed',
        run: 1,
        attempt: 3,
        error: { code: 'REMOUNT_COMMAND_UNTRUSTED', message: 'others can write it', hint: 'chmod go-w' },
        retryInMs: undefined,
        report: undefined,
      },
      level: 'error',
      message: 'remount attempt 3 failed: others can write it',
      fields: { remount: 'remount-failed', run: 1, attempt: 3, retryInMs: undefined, code: 'REMOUNT_COMMAND_UNTRUSTED', hint: 'chmod go-w', stderr: undefined },
    },
    {
      event: { type: 'remount-verified', run: 2, attempt: 1, fresh: true, findings: [] },
      level: 'info',
      message: 'remount verified: the mount check and the probe find the view fresh',
      fields: { remount: 'remount-verified', run: 2, fresh: true },
    },
    {
      event: {
        type: 'remount-verified',
        run: 2,
        attempt: 1,
        fresh: false,
        findings: [
          finding('mount.option-index', 'warning', 'index=on', {}),
          finding('remount.still-stale', 'error', 'still stale after the remount: abc-x', {}),
        ],
      },
      level: 'warn',
      message: 'after the remount the view is still not fresh',
      fields: { remount: 'remount-verified', run: 2, fresh: false, errors: ['remount.still-stale'] },
    },
    {
      event: { type: 'remount-gave-up', run: 4, attempts: 1, error: { code: 'REMOUNT_STILL_STALE', message: 'still stale' }, requests: 5 },
      level: 'error',
      message: 'remount gave up after 1 attempt: still stale; the flag stays set and the agent keeps watching',
      fields: { remount: 'remount-gave-up', run: 4, attempts: 1, requests: 5, code: 'REMOUNT_STILL_STALE', hint: undefined },
    },
  ];
  for (const c of cases) {
    it(`${c.event.type}: ${c.message}`, () => assert.deepEqual(remountLogLine(c.event), { level: c.level, message: c.message, fields: c.fields }));
  }

  it("keeps only the last 500 characters of a failed command's stderr", () => {
    const stderr = `${'x'.repeat(1000)}the last words`;
    const line = remountLogLine({
      type: 'remount-failed',
      run: 1,
      attempt: 1,
      error: { code: 'REMOUNT_COMMAND_FAILED', message: 'failed' },
      retryInMs: undefined,
      report: report(stderr),
    });
    assert.equal(line.fields['stderr'], stderr.slice(-500));
  });
});

describe('remount/restoredRemountLogLine', () => {
  it('warns with when the flag was first set, its request count and the reasons kept', () => {
    const flag: RemountNeeded = {
      version: 1,
      firstFlaggedAt: '2025-01-01T00:00:00.000Z',
      requests: 7,
      attempts: 2,
      lastAttemptAt: null,
      lastError: null,
      reasons: [{ at: '2025-01-01T00:00:00.000Z', request: { source: 'nix-hook', mergedStoreDir: '/nix/store' } }],
    };
    assert.deepEqual(restoredRemountLogLine(flag), {
      level: 'warn',
      message: 'a remount flagged before the last stop is still pending: remounting',
      fields: { since: '2025-01-01T00:00:00.000Z', requests: 7, reasons: 1 },
    });
  });
});

describe('remount/remountRequestLogLine', () => {
  it('says at info what the agent asked for', () => {
    assert.deepEqual(remountRequestLogLine({ source: 'probe', path: '/nix/store/abc-x', symptom: 'estale' }), {
      level: 'info',
      message: 'remount requested: probe: estale at /nix/store/abc-x',
      fields: {},
    });
  });
});
