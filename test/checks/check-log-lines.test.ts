import assert from 'node:assert/strict';
import { CheckLog, checkLogLines, findingChanges } from '../../agent/checks/index.ts';
import { finding, type Finding } from '../../agent/findings/index.ts';

const lowSpace = (available: string): Finding =>
  finding('layer.upper-low-space', 'warning', `the upper layer's filesystem has ${available} available`, { path: '/upper', availableBytes: 0 });
const ok = finding('mount.ok', 'info', 'the store at /m is mounted as configured', {});
const failedCheck = (check: string): Finding => finding('check.failed', 'error', `the check ${check} could not run`, { check });

describe('checks/checkLogLines', () => {
  it('at start and after a mount change: every finding, then the summary', () => {
    for (const why of ['start', 'mount changed'] as const) {
      const lines = checkLogLines([ok], [ok, lowSpace('0 B')], why);
      assert.deepEqual(
        lines.map((l) => [l.level, l.fields['finding'] ?? l.message]),
        [
          ['info', 'mount.ok'],
          ['warn', 'layer.upper-low-space'],
          ['info', `mount check (${why}): mount valid`],
        ],
      );
      assert.deepEqual(lines.at(-1)?.fields, { errors: 0, warnings: 1 });
    }
  });

  it('on schedule: nothing while the findings stay the same, though their figures change', () => {
    assert.deepEqual(checkLogLines([ok], [ok], 'scheduled'), []);
    assert.deepEqual(checkLogLines([ok, lowSpace('10 KiB')], [ok, lowSpace('4 KiB')], 'scheduled'), []);
  });

  it('on schedule: a finding that appears is logged as a finding, one that goes as cleared, then the summary', () => {
    const appeared = checkLogLines([ok], [lowSpace('0 B')], 'scheduled');
    assert.deepEqual(
      appeared.map((l) => [l.level, l.message.split(':')[0], l.fields]),
      [
        ['warn', 'layer.upper-low-space', { finding: 'layer.upper-low-space' }],
        ['info', 'mount.ok cleared (was', { cleared: 'mount.ok' }],
        ['info', 'mount check (scheduled)', { errors: 0, warnings: 1 }],
      ],
    );
    const cleared = checkLogLines([lowSpace('0 B')], [ok], 'scheduled');
    assert.deepEqual(
      cleared.map((l) => l.fields['finding'] ?? l.fields['cleared']),
      ['mount.ok', 'layer.upper-low-space', undefined],
    );
    assert.match(cleared[1]!.message, /^layer\.upper-low-space cleared \(was: the upper layer's filesystem has 0 B available\)$/);
  });

  it('tells findings of one id apart by their subject and severity', () => {
    const changes = findingChanges([failedCheck('mount.merged')], [failedCheck('mount.merged'), failedCheck('layer.upper')]);
    assert.deepEqual(
      changes.appeared.map((f) => f.evidence['check']),
      ['layer.upper'],
    );
    assert.deepEqual(changes.cleared, []);
    const worse = { ...lowSpace('0 B'), severity: 'error' as const };
    assert.deepEqual(findingChanges([lowSpace('0 B')], [worse]), { appeared: [worse], cleared: [lowSpace('0 B')] });
  });
});

describe('checks/CheckLog', () => {
  it('remembers what it logged, so the next scheduled run logs only the change', () => {
    const log = new CheckLog();
    const low = finding('layer.upper-low-space', 'warning', 'full', { path: '/upper' });
    assert.equal(log.linesFor([], 'start').length, 1);
    assert.deepEqual(log.linesFor([], 'scheduled'), []);
    assert.deepEqual(
      log.linesFor([low], 'scheduled').map((l) => l.fields['finding'] ?? l.message),
      ['layer.upper-low-space', 'mount check (scheduled): mount valid'],
    );
    assert.deepEqual(log.linesFor([low], 'scheduled'), []);
  });
});
