import assert from 'node:assert/strict';
import { computeProgress } from '../../agent/pool/index.ts';

describe('pool/map-progress', () => {
  const counts = { done: 50, failed: 2, inFlight: 4, bytes: 1000 };

  it('computes rates from the elapsed time', () => {
    const p = computeProgress(counts, { total: undefined, totalBytes: undefined }, 2000, false);
    assert.equal(p.itemsPerSecond, 25);
    assert.equal(p.bytesPerSecond, 500);
    assert.equal(p.etaMs, undefined);
    assert.equal(p.done, 50);
    assert.equal(p.failed, 2);
    assert.equal(p.inFlight, 4);
  });

  it('estimates time left by items when only the item total is known', () => {
    // 150 items left at 25 items/s: 6 s.
    assert.equal(computeProgress(counts, { total: 200, totalBytes: undefined }, 2000, false).etaMs, 6000);
  });

  it('prefers bytes when the byte total is known', () => {
    // 4000 bytes left at 500 B/s: 8 s.
    assert.equal(computeProgress(counts, { total: 200, totalBytes: 5000 }, 2000, false).etaMs, 8000);
  });

  it('has no rate and no ETA at time zero, and ETA 0 at the end', () => {
    const start = computeProgress({ done: 0, failed: 0, inFlight: 0, bytes: 0 }, { total: 10, totalBytes: undefined }, 0, false);
    assert.equal(start.itemsPerSecond, 0);
    assert.equal(start.etaMs, undefined);
    assert.equal(computeProgress(counts, { total: 50, totalBytes: undefined }, 2000, true).etaMs, 0);
  });
});
