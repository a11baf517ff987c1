import assert from 'node:assert/strict';
import { formatDuration, formatProgressLine, ProgressBar } from '../../agent/cli/progress-bar.ts';
import { formatBytes as formatSize } from '../../agent/config/byte-size.ts';

describe('progress bar', () => {
  it('formats a line with bar, counts, throughput and ETA', () => {
    const line = formatProgressLine({
      label: 'verify',
      done: 250,
      total: 1000,
      unit: 'paths',
      bytes: 512 * 1024 ** 2,
      totalBytes: 1024 ** 3,
      bytesPerSecond: 200 * 1024 ** 2,
      etaMs: 65_000,
    });
    assert.equal(line, `verify [${'#'.repeat(10)}${'.'.repeat(10)}]  50%  250/1000 paths  200 MiB/s  ETA 1:05`);
    assert.equal(formatProgressLine({ label: 'x', done: 3 }), 'x  3');
    // Short of room, the bar goes first, then the end of the line.
    assert.equal(formatProgressLine({ label: 'verify', done: 1, total: 2, etaMs: 61_000 }, 30), 'verify  50%  1/2  ETA 1:01');
    assert.ok(formatProgressLine({ label: 'verify', done: 1, total: 2, etaMs: 1 }, 10).length <= 10);
  });

  it('formats sizes and durations', () => {
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(3 * 1024 ** 3), '3.00 GiB');
    assert.equal(formatDuration(3_725_000), '1:02:05');
    assert.equal(formatDuration(0), '0:00');
  });

  it('draws only on a terminal, in place, and clears itself', () => {
    let written = '';
    const tty = new ProgressBar({ stdout: { write: () => true }, stderr: { write: (t: string) => (written += t), isTTY: true }, env: {} }, { intervalMs: 0 });
    tty.update({ label: 'a', done: 1 });
    tty.clear();
    assert.equal(written, '\r\x1b[2Ka  1\r\x1b[2K');
    let piped = '';
    const pipe = new ProgressBar({ stdout: { write: () => true }, stderr: { write: (t: string) => (piped += t) }, env: {} });
    pipe.update({ label: 'a', done: 1 }, true);
    pipe.clear();
    assert.equal(piped, '');
  });
});
