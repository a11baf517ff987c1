import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeNixBase32 } from '../../agent/store/nix-base32.ts';
import { baseNameIn } from '../../agent/store/store-path.ts';
import { STORE_PATH_KEY_BYTES, compareStorePathKeys, hashPartOfKey, writeStorePathKey } from '../../agent/store/store-path-key.ts';

/** A valid hash part: any 20 bytes, encoded. */
const hashPart = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => encodeNixBase32(bytes));
const namePart = fc.stringMatching(/^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]{0,30}$/);

function keyOf(baseName: string): Buffer {
  const key = Buffer.alloc(STORE_PATH_KEY_BYTES);
  assert.ok(writeStorePathKey(baseName, key, 0), baseName);
  return key;
}

describe('store/store-path-key', () => {
  it('the first 20 bytes are the Nix base-32 decoding of the hash part; the name part changes only the last 4', () => {
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => i * 13 + 1);
    const key = keyOf(`${encodeNixBase32(bytes)}-hello-2.12`);
    assert.deepEqual(new Uint8Array(key.subarray(0, 20)), bytes);
    const other = keyOf(`${encodeNixBase32(bytes)}-hello-2.13`);
    assert.ok(other.subarray(0, 20).equals(key.subarray(0, 20)));
    assert.ok(!other.subarray(20).equals(key.subarray(20)));
  });

  it('is injective on the hash part, and hashPartOfKey gives it back', () => {
    fc.assert(
      fc.property(hashPart, hashPart, namePart, (a, b, n) => {
        const ka = keyOf(`${a}-${n}`);
        assert.equal(hashPartOfKey(ka), a);
        assert.equal(ka.equals(keyOf(`${b}-${n}`)), a === b);
      }),
    );
  });

  it('a path and its .lock file get different keys', () => {
    const h = '1'.repeat(32);
    assert.ok(!keyOf(`${h}-hello`).equals(keyOf(`${h}-hello.lock`)));
  });

  it('writes at an offset, reads back at an offset, and compares bytewise', () => {
    const keys = Buffer.alloc(3 * STORE_PATH_KEY_BYTES);
    const [low, high] = [`${'0'.repeat(32)}-a`, `${'z'.repeat(32)}-a`];
    assert.ok(writeStorePathKey(high, keys, STORE_PATH_KEY_BYTES));
    assert.ok(writeStorePathKey(low, keys, 2 * STORE_PATH_KEY_BYTES));
    assert.equal(hashPartOfKey(keys, STORE_PATH_KEY_BYTES), 'z'.repeat(32));
    assert.ok(compareStorePathKeys(keys, 2 * STORE_PATH_KEY_BYTES, keys, STORE_PATH_KEY_BYTES) < 0);
    assert.equal(compareStorePathKeys(keys, STORE_PATH_KEY_BYTES, keyOf(high), 0), 0);
  });

  it('rejects what is not a store path name, writing nothing', () => {
    const key = Buffer.alloc(STORE_PATH_KEY_BYTES, 7);
    for (const bad of [
      '.links',
      'trash',
      'x',
      `${'e'.repeat(32)}-bad-hash-char`,
      `${'1'.repeat(32)}-.hidden`,
      `${'1'.repeat(31)}-short`,
      `${'1'.repeat(32)}-`,
    ]) {
      assert.equal(writeStorePathKey(bad, key, 0), false, bad);
    }
    assert.ok(key.every((b) => b === 7));
  });

  it('baseNameIn takes only entries directly in the store dir', () => {
    assert.equal(baseNameIn('/nix/store', '/nix/store/abc-x'), 'abc-x');
    assert.equal(baseNameIn('/nix/store', '/nix/store/abc-x/bin'), undefined);
    assert.equal(baseNameIn('/nix/store', '/nix/storeabc-x'), undefined);
    assert.equal(baseNameIn('/nix/store', '/nix/store/'), undefined);
  });
});
