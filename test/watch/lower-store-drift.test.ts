import assert from 'node:assert/strict';
import { DRIFT_EVENT_TYPES, isLowerStoreDrift } from '../../agent/watch/index.ts';

describe('isLowerStoreDrift', () => {
  it('classes the lower store dir, DB and daemon events as lower-store drift (what makes the scheduler audit), and nothing else', () => {
    const lower = DRIFT_EVENT_TYPES.filter(isLowerStoreDrift);
    assert.deepEqual([...lower].sort(), [
      'lower-daemon-modified',
      'lower-db-modified',
      'lower-db-replaced',
      'lower-grew',
      'lower-path-modified',
      'lower-shrank',
    ]);
  });
});
