/** The alert lifecycle with literal conditions: fire, stay one, resolve, re-send, per-sink delivery, drift accept and hold. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyUpdate,
  dueFor,
  EMPTY_ALERT_STATE,
  expireScope,
  firingAlerts,
  markDelivered,
  prune,
  resolveScope,
  type AlertCondition,
  type AlertState,
  type ConditionUpdate,
} from '../../agent/alerts/index.ts';

const context = { staticLabels: { store: '/nix/store' }, runbookBase: 'README.md' };
const t = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const drift = (change: string): AlertCondition => ({ name: 'OverlayWardenLowerStoreDrifted', labels: { change }, summary: `lower ${change}`, evidence: 'p' });
const invalid: AlertCondition = { name: 'OverlayWardenMountInvalid', labels: {}, summary: 'invalid', evidence: 'e' };
const check = (...conditions: AlertCondition[]): ConditionUpdate => ({ scope: 'findings:check', mode: 'replace', conditions });
const driftUpdate = (...conditions: AlertCondition[]): ConditionUpdate => ({ scope: 'drift', mode: 'add', conditions });

describe('alerts: lifecycle', () => {
  it('a condition fires one alert with its labels, severity and runbook; the same condition again is the same alert', () => {
    const first = applyUpdate(EMPTY_ALERT_STATE, check(invalid), t(0), context);
    assert.equal(first.changes.length, 1);
    const alert = first.changes[0]!.alert;
    assert.deepEqual(alert.labels, { alertname: 'OverlayWardenMountInvalid', severity: 'critical', store: '/nix/store' });
    assert.equal(alert.annotations.runbook, 'README.md#alert-mount-invalid');
    const again = applyUpdate(first.state, check({ ...invalid, summary: 'still invalid' }), t(10), context);
    assert.deepEqual(again.changes, []);
    const firing = firingAlerts(again.state);
    assert.equal(firing.length, 1);
    assert.equal(firing[0]!.startsAt, t(0).toISOString(), 'startsAt kept');
    assert.equal(firing[0]!.annotations.summary, 'still invalid', 'annotations refreshed');
    assert.equal(firing[0]!.version, 1, 'no new version: nothing to deliver at once');
  });

  it('a replace update without the condition resolves it; firing again starts anew', () => {
    let state = applyUpdate(EMPTY_ALERT_STATE, check(invalid), t(0), context).state;
    const cleared = applyUpdate(state, check(), t(5), context);
    assert.deepEqual(
      cleared.changes.map((c) => [c.kind, c.alert.endsAt]),
      [['resolved', t(5).toISOString()]],
    );
    state = applyUpdate(cleared.state, check(invalid), t(9), context).state;
    const [alert] = firingAlerts(state);
    assert.deepEqual([alert!.startsAt, alert!.version], [t(9).toISOString(), 3]);
  });

  it('drift accumulates (add) and resolves when accepted, or once the hold time passed since it was last seen', () => {
    let state = applyUpdate(EMPTY_ALERT_STATE, driftUpdate(drift('grew')), t(0), context).state;
    state = applyUpdate(state, driftUpdate(drift('shrank')), t(10), context).state;
    state = applyUpdate(state, check(), t(11), context).state;
    assert.equal(firingAlerts(state).length, 2, 'another scope clears nothing of drift');
    assert.deepEqual(expireScope(state, 'drift', 20_000, t(19)).changes, []);
    const held = expireScope(state, 'drift', 20_000, t(20));
    assert.deepEqual(
      held.changes.map((c) => c.alert.labels['change']),
      ['grew'],
    );
    const accepted = resolveScope(state, 'drift', t(12));
    assert.equal(accepted.changes.length, 2);
    assert.equal(firingAlerts(accepted.state).length, 0);
  });

  it('each sink gets each version once, firing ones again after the resend interval; a sink that missed them gets them later', () => {
    let state = applyUpdate(EMPTY_ALERT_STATE, check(invalid), t(0), context).state;
    assert.equal(dueFor(state, 'a', t(0), 60_000).length, 1);
    state = markDelivered(state, 'a', dueFor(state, 'a', t(0), 60_000), t(0));
    assert.equal(dueFor(state, 'a', t(59), 60_000).length, 0);
    assert.equal(dueFor(state, 'a', t(60), 60_000).length, 1, 're-sent while firing');
    assert.equal(dueFor(state, 'b', t(1), 60_000).length, 1, 'sink b has not had it');
    state = applyUpdate(state, check(), t(30), context).state;
    const due = dueFor(state, 'a', t(31), 60_000);
    assert.deepEqual(
      due.map((a) => a.endsAt),
      [t(30).toISOString()],
      'the resolved version is due',
    );
    state = markDelivered(state, 'a', due, t(31));
    assert.equal(Object.keys(prune(state, ['a', 'b'], t(32), 3600_000).alerts).length, 1, 'kept until b has it too');
    assert.equal(Object.keys(prune(state, ['a'], t(32), 3600_000).alerts).length, 0);
    assert.equal(Object.keys(prune(state, ['a', 'b'], t(3632), 3600_000).alerts).length, 0, 'not kept for ever');
    assert.equal(dueFor(state, 'a', t(500), 60_000).length, 0, 'a resolved alert is not re-sent');
  });

  it('property: whatever the updates, identical conditions are one alert, and an alert is firing iff its scope last reported it', () => {
    const scopes = ['findings:check', 'watcher:upper-layer'] as const;
    const conditionArb = fc.constantFrom<AlertCondition>(invalid, {
      name: 'OverlayWardenUpperLayerLow',
      labels: { resource: 'space' },
      summary: 's',
      evidence: '',
    });
    const updateArb = fc.record({ scope: fc.constantFrom(...scopes), conditions: fc.array(conditionArb, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(updateArb, { maxLength: 30 }), (updates) => {
        let state: AlertState = EMPTY_ALERT_STATE;
        const last = new Map<string, readonly AlertCondition[]>();
        updates.forEach((u, i) => {
          state = applyUpdate(state, { ...u, mode: 'replace' }, t(i), context).state;
          last.set(u.scope, u.conditions);
        });
        const firing = firingAlerts(state);
        const expected = new Set([...last].flatMap(([scope, cs]) => cs.map((c) => `${scope}|${c.name}`)));
        const actual = firing.map((a) => `${a.scope}|${a.name}`);
        assert.equal(new Set(actual).size, actual.length, 'no alert twice');
        // The same condition from two scopes is still one alert (same labels): it belongs to the scope that fired it.
        assert.ok(actual.length <= expected.size);
        for (const a of firing) assert.ok(last.get(a.scope)!.some((c) => c.name === a.name));
      }),
    );
  });
});
