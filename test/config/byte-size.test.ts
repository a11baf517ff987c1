import assert from 'node:assert/strict';
import { formatBytes } from '../../agent/config/index.ts';

describe('config/formatBytes', () => {
  it('prints sizes in the unit that fits, with three significant digits', () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [0, '0 B'],
      [1, '1 B'],
      [1023, '1023 B'],
      [1023.6, '1.00 KiB'],
      [1024, '1.00 KiB'],
      [1536, '1.50 KiB'],
      [10 * 1024, '10.0 KiB'],
      [209_715.2, '205 KiB'], // 5% of 4 MiB
      [1_048_575, '1.00 MiB'], // 1023.999 KiB rounds up to the next unit
      [4 * 2 ** 20, '4.00 MiB'],
      [50 * 2 ** 20, '50.0 MiB'],
      [3 * 2 ** 30, '3.00 GiB'],
      [1.5 * 2 ** 40, '1.50 TiB'],
      [2 ** 50, '1.00 PiB'],
      [5000 * 2 ** 50, '5000 PiB'],
    ];
    for (const [bytes, shown] of cases) assert.equal(formatBytes(bytes), shown, String(bytes));
  });

  it('prints a value that is no size as it is', () => {
    assert.equal(formatBytes(-1), '-1 B');
    assert.equal(formatBytes(Number.NaN), 'NaN B');
  });
});
