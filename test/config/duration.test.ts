import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../agent/config/index.ts';

describe('durations as people write them', () => {
  it('parses units ms, s, m, h, d, w, fractions and combinations into milliseconds', () => {
    const cases: Array<[string, number]> = [
      ['10s', 10_000],
      ['500ms', 500],
      ['5m', 300_000],
      ['24h', 86_400_000],
      ['1.5h', 5_400_000],
      ['1h30m', 5_400_000],
      [' 1h 30m ', 5_400_000],
      ['7d', 604_800_000],
      ['2w', 1_209_600_000],
      ['0s', 0],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it('refuses a bare number (seconds or milliseconds?), unknown units, repeated units, signs and junk', () => {
    for (const text of ['', '10', '10 sec', '10x', '1h1h', '-5s', 's', '1h30', 'h1', '1e3s', 'off']) assert.equal(parseDuration(text), undefined, text);
  });

  it('formats milliseconds back in the largest two units', () => {
    assert.equal(formatDuration(86_400_000), '1d');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(10_000), '10s');
    assert.equal(formatDuration(250), '250ms');
    for (const ms of [10_000, 300_000, 86_400_000, 5_400_000, 604_800_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});
