import assert from 'node:assert/strict';
import { DaemonError, FrameReader, FrameWriter, NEED_MORE } from '../../../agent/store/daemon/index.ts';

const LIMITS = { maxStringBytes: 64, maxListLength: 4 };

function reader(): FrameReader {
  return new FrameReader(LIMITS, () => ({ socket: 'test', operation: 'test-op' }));
}

function throwsWith(read: () => unknown, code: string): DaemonError {
  let caught: unknown;
  try {
    read();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DaemonError, String(caught));
  assert.equal(caught.code, code);
  return caught;
}

/** Runs `read` as the connection does: rewinding on NEED_MORE, committing when it succeeds. */
function attempt<T>(r: FrameReader, read: () => T): T | typeof NEED_MORE {
  try {
    const value = read();
    r.commit();
    return value;
  } catch (error) {
    if (error !== NEED_MORE) throw error;
    r.rewind();
    return NEED_MORE;
  }
}

describe('worker protocol framing', function () {
  it('encodes u64 little-endian, strings padded to 8 with zeros, string lists with their count', function () {
    assert.equal(new FrameWriter().u64(0x0102).toBuffer().toString('hex'), '0201000000000000');
    assert.equal(new FrameWriter().string('abc').toBuffer().toString('hex'), '0300000000000000' + '6162630000000000');
    assert.equal(new FrameWriter().string('').toBuffer().length, 8);
    assert.equal(new FrameWriter().string('12345678').toBuffer().length, 16);
    assert.equal(new FrameWriter().strings(['a', 'bc']).toBuffer().length, 8 + 16 + 16);
  });

  it('decodes what it encodes when the bytes arrive one at a time: NEED_MORE until the last one, nothing consumed before', function () {
    const bytes = new FrameWriter().u64(42).bool(true).string('héllo').strings(['/nix/store/x', '']).toBuffer();
    const r = reader();
    const read = (): unknown[] => [r.u64('n'), r.bool('b'), r.string('s'), r.strings('l')];
    for (const [i, byte] of bytes.entries()) {
      r.push(Buffer.from([byte]));
      const result = attempt(r, read);
      if (i < bytes.length - 1) {
        assert.equal(result, NEED_MORE);
        assert.equal(r.bufferedBytes, i + 1, 'a failed attempt consumes nothing');
      } else {
        assert.deepEqual(result, [42, true, 'héllo', ['/nix/store/x', '']]);
      }
    }
    assert.equal(r.bufferedBytes, 0);
  });

  it('ready is false until the bytes the last NEED_MORE asked for are in', function () {
    const bytes = new FrameWriter().string('a'.repeat(40)).toBuffer();
    const r = reader();
    r.push(bytes.subarray(0, 10));
    assert.equal(
      attempt(r, () => r.string('s')),
      NEED_MORE,
    );
    assert.equal(r.ready, false);
    r.push(bytes.subarray(10, 47));
    assert.equal(r.ready, false);
    r.push(bytes.subarray(47));
    assert.equal(r.ready, true);
    assert.equal(
      attempt(r, () => r.string('s')),
      'a'.repeat(40),
    );
  });

  it('decodes across chunk boundaries in one push of many values, and keeps a commit made part-way', function () {
    const bytes = new FrameWriter().strings(['a', 'bb', 'ccc']).toBuffer();
    const r = reader();
    r.push(bytes.subarray(0, 13));
    assert.equal(r.listLength('l'), 3);
    r.commit();
    assert.equal(
      attempt(r, () => r.string('l')),
      NEED_MORE,
    );
    r.push(bytes.subarray(13));
    assert.deepEqual([r.string('l'), r.string('l'), r.string('l')], ['a', 'bb', 'ccc']);
  });

  it('holds a big answer arriving in many chunks (the buffer grows to fit it)', function () {
    const values = Array.from({ length: 40_000 }, (_, i) => `/nix/store/${String(i).padStart(32, '0')}-name`);
    const bytes = new FrameWriter().strings(values).toBuffer();
    const r = new FrameReader({ maxStringBytes: 1024, maxListLength: 1 << 20 }, () => ({}));
    for (let at = 0; at < bytes.length; at += 65_536) r.push(bytes.subarray(at, at + 65_536));
    assert.deepEqual(
      attempt(r, () => r.strings('l')),
      values,
    );
    assert.equal(r.bufferedBytes, 0);
  });

  it('refuses a string or list length above the cap before its bytes are there', function () {
    const r = reader();
    r.push(new FrameWriter().u64(65).toBuffer());
    const error = throwsWith(() => r.string('s'), 'DAEMON_FRAME_TOO_LARGE');
    assert.deepEqual([error.evidence['length'], error.evidence['limit'], error.evidence['operation']], ['65', 64, 'test-op']);
    const list = reader();
    list.push(new FrameWriter().u64(5).toBuffer());
    throwsWith(() => list.strings('l'), 'DAEMON_FRAME_TOO_LARGE');
    const huge = reader();
    huge.push(Buffer.alloc(8, 0xff));
    assert.equal(throwsWith(() => huge.string('s'), 'DAEMON_FRAME_TOO_LARGE').evidence['length'], ((1n << 64n) - 1n).toString());
  });

  it('refuses non-zero padding, a bool other than 0/1, and a number above 2^53', function () {
    const padding = reader();
    padding.push(Buffer.concat([new FrameWriter().u64(1).toBuffer(), Buffer.from('a\0\0\0\0\0\0x')]));
    throwsWith(() => padding.string('s'), 'DAEMON_BAD_FRAME');
    const bool = reader();
    bool.push(new FrameWriter().u64(2).toBuffer());
    throwsWith(() => bool.bool('b'), 'DAEMON_BAD_FRAME');
    const big = reader();
    big.push(Buffer.alloc(8, 0xff));
    throwsWith(() => big.u64('n'), 'DAEMON_BAD_FRAME');
    const edge = reader();
    edge.push(new FrameWriter().u64(Number.MAX_SAFE_INTEGER).toBuffer());
    assert.equal(edge.u64('n'), Number.MAX_SAFE_INTEGER);
  });
});
