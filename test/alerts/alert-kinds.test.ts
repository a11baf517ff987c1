/** Every alert kind has a runbook section in the README, and a row in its alert table. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ALERT_KINDS, ALERT_NAMES } from '../../agent/alerts/index.ts';
import { alertsStatusRows } from '../../agent/cli/status-alerts-rows.ts';

const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes. */
const anchors = new Set(
  [...README.matchAll(/^#+ (.+)$/gm)].map((m) =>
    m[1]!
      .toLowerCase()
      .replace(/[^a-z0-9 -]/g, '')
      .replace(/ /g, '-'),
  ),
);

describe('alerts: kinds', () => {
  it('each kind links a README section that exists, and the README table lists each', () => {
    for (const name of ALERT_NAMES) {
      const kind = ALERT_KINDS[name];
      assert.ok(anchors.has(kind.runbook.slice(1)), `no README heading for ${kind.runbook}`);
      assert.match(README, new RegExp(`^\\| \`${name}\` \\|`, 'm'), `no README row for ${name}`);
    }
  });
});

describe('alerts: status rows', () => {
  it('say what fires and how each sink is doing; nothing without the section', () => {
    assert.deepEqual(alertsStatusRows(undefined), []);
    const rows = alertsStatusRows({
      firing: [{ alertname: 'OverlayWardenLowerStoreDrifted', labels: { alertname: 'x', change: 'grew', store: '/s' }, startsAt: 't', summary: 's' }],
      sinks: [
        {
          name: 'alertmanager#1',
          target: 'u',
          state: 'ok',
          deliveries: 3,
          failures: 0,
          consecutiveFailures: 0,
          lastDeliveredAt: 't',
          lastError: null,
          nextRetryAt: null,
        },
        {
          name: 'webhook#1',
          target: 'u',
          state: 'failing',
          deliveries: 0,
          failures: 4,
          consecutiveFailures: 4,
          lastDeliveredAt: null,
          lastError: { code: 'ALERT_SINK_HTTP', message: 'm', at: 't' },
          nextRetryAt: 'T',
        },
      ],
      resendSeconds: 60,
      driftHoldSeconds: 0,
    });
    assert.deepEqual(rows, [
      ['alerts', '1 firing: OverlayWardenLowerStoreDrifted (change=grew)'],
      ['alert sinks', 'alertmanager#1 ok (3 delivered, 0 failed); webhook#1 failing (4 in a row, ALERT_SINK_HTTP, retry at T; 0 delivered, 4 failed)'],
    ]);
  });
});
