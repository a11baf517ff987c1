import assert from 'node:assert/strict';
import { mountVerdict } from '../../agent/cli/commands/status.ts';
import { finding } from '../../agent/findings/index.ts';

describe('status: the mount row', () => {
  const at = '2025-01-01T00:00:00.000Z';
  const low = finding('layer.upper-low-space', 'warning', 'little space', { path: '/upper' });
  const inodes = finding('layer.upper-low-inodes', 'warning', 'few inodes', { path: '/upper' });
  const notMounted = finding('mount.not-mounted', 'error', 'not mounted', {});

  it('says valid only when the latest check found neither error nor warning', () => {
    assert.deepEqual(mountVerdict({ mountValid: true, lastCheck: { at, errors: 0, warnings: 0, findings: [] } }), { style: 'green', text: 'valid' });
  });

  it('names the warnings of a valid mount, so a filling upper layer shows', () => {
    assert.deepEqual(mountVerdict({ mountValid: true, lastCheck: { at, errors: 0, warnings: 2, findings: [low, inodes] } }), {
      style: 'yellow',
      text: 'valid, with 2 warnings: layer.upper-low-space, layer.upper-low-inodes',
    });
  });

  it('names the errors of an invalid mount, and says when no check ran yet', () => {
    assert.deepEqual(mountVerdict({ mountValid: false, lastCheck: { at, errors: 1, warnings: 1, findings: [notMounted, low] } }), {
      style: 'red',
      text: 'invalid (1 error: mount.not-mounted)',
    });
    assert.deepEqual(mountVerdict({ mountValid: false, lastCheck: undefined }), { style: 'red', text: 'invalid (no check yet)' });
  });
});
