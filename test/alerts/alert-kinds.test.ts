/** Every alert kind has a runbook section in the README, and a row in its alert table. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ALERT_KINDS, ALERT_NAMES } from '../../agent/alerts/index.ts';

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
