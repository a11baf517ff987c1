/** When scheduled audits fall due, and which work goes next: pure functions over clock times. */
import assert from 'node:assert/strict';
import { auditDueAt, nextWork, type AuditTiming } from '../../agent/schedule/index.ts';

const TIMING: AuditTiming = { afterDrift: { settle: 10_000, maxDelay: 300_000 }, every: 86_400_000 };

describe('scheduled audit timing', () => {
  it('with no change pending: every `every` after the last audit; nothing when `every` is off', () => {
    assert.equal(auditDueAt({ pendingSince: undefined, lastDriftAt: undefined, lastAuditAt: 5000 }, TIMING), 5000 + 86_400_000);
    assert.equal(auditDueAt({ pendingSince: undefined, lastDriftAt: undefined, lastAuditAt: 5000 }, { ...TIMING, every: 'off' }), undefined);
  });

  it('after a change: `settle` after the latest change (debounced)', () => {
    assert.equal(auditDueAt({ pendingSince: 100_000, lastDriftAt: 100_000, lastAuditAt: 0 }, TIMING), 110_000);
    assert.equal(auditDueAt({ pendingSince: 100_000, lastDriftAt: 150_000, lastAuditAt: 0 }, TIMING), 160_000);
  });

  it('a store that keeps changing is still audited: no later than `maxDelay` after the first unaudited change', () => {
    assert.equal(auditDueAt({ pendingSince: 100_000, lastDriftAt: 399_000, lastAuditAt: 0 }, TIMING), 400_000);
  });

  it('afterDrift off: changes do not bring the audit forward', () => {
    assert.equal(auditDueAt({ pendingSince: 100_000, lastDriftAt: 100_000, lastAuditAt: 0 }, { ...TIMING, afterDrift: 'off' }), 86_400_000);
    assert.equal(auditDueAt({ pendingSince: 100_000, lastDriftAt: 100_000, lastAuditAt: 0 }, { afterDrift: 'off', every: 'off' }), undefined);
  });

  it('nextWork: a due audit goes before a due scrub chunk (turns); otherwise wait for the earlier of the two, or to be woken', () => {
    assert.deepEqual(nextWork(10, 10, 5), { kind: 'audit' });
    assert.deepEqual(nextWork(10, 20, 5), { kind: 'scrub' });
    assert.deepEqual(nextWork(10, 20, 30), { kind: 'wait', until: 20 });
    assert.deepEqual(nextWork(10, undefined, 30), { kind: 'wait', until: 30 });
    assert.deepEqual(nextWork(10, undefined, undefined), { kind: 'wait', until: undefined });
  });
});
