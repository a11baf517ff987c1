import assert from 'node:assert/strict';
import { compareFindings, finding, FINDING_IDS, SEVERITIES, type Finding } from '../../agent/findings/index.ts';

describe('compareFindings', () => {
  it('orders by severity, error first, then by id as localeCompare would', () => {
    const all: Finding[] = SEVERITIES.flatMap((severity) => FINDING_IDS.map((id) => finding(id, severity, id, {})));
    const sorted = [...all].reverse().sort(compareFindings);
    const expected = [...all].sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.id.localeCompare(b.id, 'en'));
    assert.deepEqual(
      sorted.map((f) => `${f.severity}:${f.id}`),
      expected.map((f) => `${f.severity}:${f.id}`),
    );
    assert.equal(sorted[0]!.severity, 'error');
  });

  it('holds to ids made of the characters it compares correctly', () => {
    for (const id of FINDING_IDS) assert.match(id, /^[a-z0-9.-]+$/);
  });
});
