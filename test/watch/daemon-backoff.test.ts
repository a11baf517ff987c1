/** The reconnect schedule of the lower daemon watcher: exponential, capped, equal jitter. */
import assert from 'node:assert/strict';
import { reconnectDelayMs } from '../../agent/watch/index.ts';

const SETTINGS = { initialMs: 500, maxMs: 30_000 };

describe('watch/daemon-backoff', () => {
  it('doubles per failure in a row from initialMs, and stops at maxMs (random 1: the base itself)', () => {
    const delays = Array.from({ length: 10 }, (_, i) => reconnectDelayMs(i + 1, SETTINGS, () => 1));
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('jitters only the upper half: random 0 gives half the base, never less', () => {
    assert.deepEqual(
      [1, 2, 3, 8].map((n) => reconnectDelayMs(n, SETTINGS, () => 0)),
      [250, 500, 1000, 15_000],
    );
    assert.equal(
      reconnectDelayMs(2, SETTINGS, () => 0.5),
      750,
    );
  });

  it('stays within [base/2, base] for any random, and finite after very many failures', () => {
    for (let n = 1; n < 2000; n += 37) {
      const base = Math.min(SETTINGS.maxMs, SETTINGS.initialMs * 2 ** (n - 1));
      const d = reconnectDelayMs(n, SETTINGS, Math.random);
      assert.ok(d >= base / 2 && d <= base, `${n}: ${d}`);
    }
    assert.equal(
      reconnectDelayMs(1e9, SETTINGS, () => 1),
      30_000,
    );
  });

  it('treats 0 or fewer failures as the first, and clamps a random source outside [0, 1]', () => {
    assert.equal(
      reconnectDelayMs(0, SETTINGS, () => 1),
      500,
    );
    assert.equal(
      reconnectDelayMs(-3, SETTINGS, () => 1),
      500,
    );
    assert.equal(
      reconnectDelayMs(1, SETTINGS, () => 7),
      500,
    );
    assert.equal(
      reconnectDelayMs(1, SETTINGS, () => -1),
      250,
    );
  });
});
