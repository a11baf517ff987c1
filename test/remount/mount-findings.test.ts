import assert from 'node:assert/strict';
import { finding, hasErrors } from '../../agent/findings/index.ts';
import { mountFindings } from '../../agent/remount/index.ts';

describe('mountFindings (what decides that a remount left the overlay as configured)', () => {
  const unreachable = finding('layer.lower-daemon-unreachable', 'error', 'the lower daemon refuses connections', { socket: '/run/d.sock' });
  const wrongUpper = finding('mount.upper-mismatch', 'error', 'upperdir is not the upper layer', {});

  it('leaves out a lower daemon that does not answer: a remount cannot bring it back', () => {
    assert.equal(hasErrors(mountFindings([unreachable])), false);
  });

  it('keeps every error about the mount', () => {
    assert.deepEqual(mountFindings([unreachable, wrongUpper]), [wrongUpper]);
  });
});
