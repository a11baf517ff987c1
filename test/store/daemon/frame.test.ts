import assert from 'node:assert/strict';
import { DaemonError, FrameReader, FrameWriter } from '../../../agent/store/daemon/index.ts';

const LIMITS = { maxStringBytes: 64, maxListLength: 4 };

function reader(): FrameReader {
  return new FrameReader(LIMITS, () => ({ socket: 'test', operation: 'test-op' }));
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<DaemonError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DaemonError, String(caught));
  assert.equal(caught.code, code);
  return caught;
}

describe('worker protocol framing', function () {
  it('encodes u64 little-endian, strings padded to 8 with zeros, string lists with their count', function () {
    assert.equal(new FrameWriter().u64(0x0102).toBuffer().toString('hex'), '0201000000000000');
    assert.equal(new FrameWriter().string('abc').toBuffer().toString('hex'), '0300000000000000' + '6162630000000000');
    assert.equal(new FrameWriter().string('').toBuffer().length, 8);
    assert.equal(new FrameWriter().string('12345678').toBuffer().length, 16);
    assert.equal(new FrameWriter().strings(['a', 'bc']).toBuffer().length, 8 + 16 + 16);
  });

  it('decodes what it encodes when the bytes arrive one at a time', async function () {
    const bytes = new FrameWriter().u64(42).bool(true).string('héllo').strings(['/nix/store/x', '']).toBuffer();
    const r = reader();
    const decoded = (async () => [await r.u64('n'), await r.bool('b'), await r.string('s'), await r.strings('l')])();
    for (const byte of bytes) {
      r.push(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await decoded, [42, true, 'héllo', ['/nix/store/x', '']]);
    assert.equal(r.bufferedBytes, 0);
  });

  it('decodes across chunk boundaries in one push of many values', async function () {
    const bytes = new FrameWriter().strings(['a', 'bb', 'ccc']).toBuffer();
    const r = reader();
    r.push(bytes.subarray(0, 13));
    r.push(bytes.subarray(13));
    assert.deepEqual(await r.strings('l'), ['a', 'bb', 'ccc']);
  });

  it('refuses a string or list length above the cap before reading it', async function () {
    const r = reader();
    r.push(new FrameWriter().u64(65).toBuffer());
    const error = await rejectsWith(r.string('s'), 'DAEMON_FRAME_TOO_LARGE');
    assert.deepEqual([error.evidence['length'], error.evidence['limit'], error.evidence['operation']], ['65', 64, 'test-op']);
    const list = reader();
    list.push(new FrameWriter().u64(5).toBuffer());
    await rejectsWith(list.strings('l'), 'DAEMON_FRAME_TOO_LARGE');
  });

  it('refuses non-zero padding, a bool other than 0/1, and a number above 2^53', async function () {
    const padding = reader();
    padding.push(Buffer.concat([new FrameWriter().u64(1).toBuffer(), Buffer.from('a\0\0\0\0\0\0x')]));
    await rejectsWith(padding.string('s'), 'DAEMON_BAD_FRAME');
    const bool = reader();
    bool.push(new FrameWriter().u64(2).toBuffer());
    await rejectsWith(bool.bool('b'), 'DAEMON_BAD_FRAME');
    const big = reader();
    big.push(Buffer.alloc(8, 0xff));
    await rejectsWith(big.u64('n'), 'DAEMON_BAD_FRAME');
  });

  it('a failure rejects the pending read and every later one with the first error', async function () {
    const r = reader();
    const pending = r.u64('n');
    r.push(Buffer.alloc(3));
    const first = new DaemonError('DAEMON_CLOSED', 'closed');
    r.fail(first);
    r.fail(new DaemonError('DAEMON_TIMED_OUT', 'late'));
    await assert.rejects(pending, (error) => error === first);
    await assert.rejects(r.u64('n'), (error) => error === first);
  });
});
