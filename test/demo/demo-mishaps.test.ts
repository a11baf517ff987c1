import assert from 'node:assert/strict';
import { mishapCandidates } from '../../agent/demo/index.ts';

describe('mishapCandidates', () => {
  const store = {
    lower: { paths: ['/s/a', '/s/b', '/s/c', '/s/d', '/s/e'], roots: ['/s/d', '/s/b', '/s/a'] },
    upper: { duplicates: ['/s/a'], copiedUp: ['/s/c'] },
  } as unknown as Parameters<typeof mishapCandidates>[0];

  it('offers only lower paths the upper side does not know (no duplicate, none in an upper closure), roots first', () => {
    assert.deepEqual(mishapCandidates(store), ['/s/b', '/s/d', '/s/e']);
  });
});
