import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import {
  BaselineError,
  EntrySet,
  baselineFileOf,
  decodeBaseline,
  encodeBaseline,
  loadBaseline,
  saveBaseline,
  type LowerBaseline,
} from '../../agent/baseline/index.ts';
import { encodeNixBase32 } from '../../agent/store/nix-base32.ts';

const nameOf = (i: number): string => `${encodeNixBase32(Uint8Array.from({ length: 20 }, (_, j) => (i * 97 + j * 31 + 5) & 0xff))}-pkg-${i}`;

function sample(count: number): LowerBaseline {
  return {
    realStoreDir: '/mnt/lower/nix/store',
    createdAt: '2025-01-02T03:04:05.000Z',
    db: {
      file: '/mnt/lower/nix/var/nix/db/db.sqlite',
      dev: '2049',
      ino: '123456789012345678',
      size: 8192,
      mtimeNs: '1700000000123456789',
      walSize: 0,
      walMtimeNs: null,
      validPaths: { count: count, maxId: count + 3 },
    },
    entries: EntrySet.fromNames(Array.from({ length: count }, (_, i) => nameOf(i))),
    dirStamp: { dev: '2049', ino: '77', mtimeNs: '1700000000000000001', ctimeNs: '1700000000000000002', size: 4096, nlink: 9, readAtNs: '1700000100000000000' },
  };
}

const bytesOf = (b: LowerBaseline): Buffer => Buffer.concat([...encodeBaseline(b)]);

function expectCode(fn: () => unknown, code: string): BaselineError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof BaselineError, String(error));
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('baseline/baseline-file', () => {
  let dir = '';
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-baseline-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips metadata and entries through encode and decode', () => {
    const original = sample(500);
    const decoded = decodeBaseline(bytesOf(original), 'mem');
    assert.equal(decoded.realStoreDir, original.realStoreDir);
    assert.equal(decoded.createdAt, original.createdAt);
    assert.deepEqual(decoded.db, original.db);
    assert.deepEqual(decoded.dirStamp, original.dirStamp);
    assert.deepEqual([...decoded.entries.names()], [...original.entries.names()]);
    assert.equal(decoded.entries.has(nameOf(42)), true);
  });

  it('loads a file an earlier overlay-warden wrote (format 1, keys from the hash bytes), finds its names, writes it back byte for byte', () => {
    const file = path.join(import.meta.dirname, 'fixtures', 'lower-baseline-v1.bin');
    const loaded = loadBaseline(file, '/mnt/lower/nix/store')!;
    const names = [
      '00000000000000000000000000000000-first',
      'y1n0yr6lvqx6hyy3ffp0s6fxvs0b0ahp-glibc-2.39-52',
      'q4d3z5l8n3a3kqp9bxv7ypy2wmm2cmbf-python3.12-numpy-1.26.4',
      'b6gvzjyb2pg0kjfwrjmg1vfhh54ad73z-firefox-33.1',
      '0c0qx2w2n1jm0i2whqkwhchm7nh1ncn7-hello-2.12.1',
      '0c0qx2w2n1jm0i2whqkwhchm7nh1ncn7-hello-2.12.1.drv',
      'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz-last',
    ];
    assert.deepEqual([...loaded.entries.names()], names);
    for (const name of names) assert.equal(loaded.entries.has(name), true, name);
    assert.equal(loaded.entries.has('0c0qx2w2n1jm0i2whqkwhchm7nh1ncn7-hello-2.12.2'), false);
    assert.ok(bytesOf({ ...loaded, entries: EntrySet.fromNames(names) }).equals(fs.readFileSync(file)));
  });

  it('round-trips an empty baseline and one without DB or stamp', () => {
    const empty: LowerBaseline = { ...sample(0), db: null, dirStamp: null };
    const decoded = decodeBaseline(bytesOf(empty), 'mem');
    assert.equal(decoded.entries.count, 0);
    assert.equal(decoded.db, null);
    assert.equal(decoded.dirStamp, null);
  });

  it('saves atomically to the state dir and loads it back; a missing file is no baseline', () => {
    const file = baselineFileOf(path.join(dir, 'state'));
    assert.equal(loadBaseline(file), undefined);
    saveBaseline(file, sample(100));
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
    const loaded = loadBaseline(file, '/mnt/lower/nix/store');
    assert.equal(loaded?.entries.count, 100);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
    // Saving what was loaded (names stored in key order) writes the same bytes.
    saveBaseline(file, loaded!);
    assert.deepEqual(fs.readFileSync(file), bytesOf(sample(100)));
  });

  it('refuses a baseline of another lower store dir', () => {
    const file = path.join(dir, 'other.bin');
    saveBaseline(file, sample(3));
    const error = expectCode(() => loadBaseline(file, '/nix/store'), 'BASELINE_OTHER_STORE');
    assert.equal(error.evidence['found'], '/mnt/lower/nix/store');
  });

  it('reports damage as BASELINE_CORRUPT: truncation, a flipped byte, bad magic, garbage', () => {
    const good = bytesOf(sample(50));
    const cases: Record<string, Buffer> = {
      truncated: good.subarray(0, good.length - 10),
      'flipped key byte': Buffer.from(good).fill(good[100]! ^ 0xff, 100, 101),
      'bad magic': Buffer.concat([Buffer.from('NOTABASE'), good.subarray(8)]),
      garbage: Buffer.from('{"json": "not a baseline"}'),
      empty: Buffer.alloc(0),
    };
    for (const [what, bytes] of Object.entries(cases)) {
      const file = path.join(dir, `corrupt-${what.replace(/ /g, '-')}.bin`);
      fs.writeFileSync(file, bytes);
      const error = expectCode(() => loadBaseline(file), 'BASELINE_CORRUPT');
      assert.equal(error.evidence['file'], file, what);
    }
  });

  it('checks more than the checksum: unsorted keys and bad metadata are corrupt even with a valid CRC', () => {
    const good = bytesOf(sample(10));
    const metaLength = good.readUInt32LE(12);
    const keysAt = 24 + metaLength;
    const swapped = Buffer.from(good);
    good.copy(swapped, keysAt, keysAt + 24, keysAt + 48);
    good.copy(swapped, keysAt + 24, keysAt, keysAt + 24);
    swapped.writeUInt32LE(crc32(swapped.subarray(0, swapped.length - 4)) >>> 0, swapped.length - 4);
    assert.match(expectCode(() => decodeBaseline(swapped, 'mem'), 'BASELINE_CORRUPT').message, /ascending/);

    const badMeta = Buffer.from(good);
    badMeta.write('[', 24, 'latin1');
    badMeta.writeUInt32LE(crc32(badMeta.subarray(0, badMeta.length - 4)) >>> 0, badMeta.length - 4);
    expectCode(() => decodeBaseline(badMeta, 'mem'), 'BASELINE_CORRUPT');
  });

  it('reports another format version apart', () => {
    const bytes = bytesOf(sample(2));
    bytes.writeUInt32LE(99, 8);
    const error = expectCode(() => decodeBaseline(bytes, 'mem'), 'BASELINE_UNSUPPORTED_VERSION');
    assert.equal(error.evidence['found'], 99);
  });

  it('reports an unreadable file as BASELINE_UNREADABLE and a failed save as BASELINE_WRITE_FAILED', () => {
    const asDir = path.join(dir, 'is-a-dir.bin');
    fs.mkdirSync(asDir);
    assert.equal(expectCode(() => loadBaseline(asDir), 'BASELINE_UNREADABLE').evidence['errno'], 'EISDIR');
    const blocker = path.join(dir, 'blocker');
    fs.writeFileSync(blocker, '');
    expectCode(() => saveBaseline(path.join(blocker, 'state', 'b.bin'), sample(1)), 'BASELINE_WRITE_FAILED');
  });
});
