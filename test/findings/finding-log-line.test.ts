import assert from 'node:assert/strict';
import { finding, findingLogLine } from '../../agent/findings/index.ts';

describe('findings/findingLogLine', () => {
  it('logs each severity at its level, prefixed by the id, with the id as a field', () => {
    assert.deepEqual(findingLogLine(finding('mount.not-mounted', 'error', 'nothing is mounted at /nix/store', {})), {
      level: 'error',
      message: 'mount.not-mounted: nothing is mounted at /nix/store',
      fields: { finding: 'mount.not-mounted' },
    });
    assert.equal(findingLogLine(finding('mount.option-index', 'warning', 'index=on', {})).level, 'warn');
    assert.equal(findingLogLine(finding('mount.ok', 'info', 'fine', {})).level, 'info');
  });

  it('adds the hint when there is one, and not the evidence', () => {
    const line = findingLogLine(finding('layer.upper-low-space', 'warning', 'little space left', { freePercent: 2 }, 'run nix-collect-garbage'));
    assert.deepEqual(line.fields, { finding: 'layer.upper-low-space', hint: 'run nix-collect-garbage' });
  });
});
