import assert from 'node:assert/strict';
import fc from 'fast-check';
import { baseNameIn, packStoreKey, STORE_KEY_BYTES, unpackHashPart } from '../../agent/audit/store-key.ts';

const DIGITS = '0123456789abcdfghijklmnpqrsvwxyz';
const hashPart = fc.array(fc.constantFrom(...DIGITS), { minLength: 32, maxLength: 32 }).map((chars) => chars.join(''));
const name = fc.stringMatching(/^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]{0,30}$/);

describe('store keys', () => {
  it('packing is injective on the hash part and reversible', () => {
    fc.assert(
      fc.property(hashPart, hashPart, name, (a, b, n) => {
        const ka = Buffer.alloc(STORE_KEY_BYTES);
        const kb = Buffer.alloc(STORE_KEY_BYTES);
        assert.ok(packStoreKey(`${a}-${n}`, ka, 0));
        assert.ok(packStoreKey(`${b}-${n}`, kb, 0));
        assert.equal(unpackHashPart(ka), a);
        assert.equal(ka.equals(kb), a === b);
      }),
    );
  });

  it('the same hash part with another name gives another key', () => {
    const a = Buffer.alloc(STORE_KEY_BYTES);
    const b = Buffer.alloc(STORE_KEY_BYTES);
    packStoreKey(`${'1'.repeat(32)}-hello`, a, 0);
    packStoreKey(`${'1'.repeat(32)}-hello.lock`, b, 0);
    assert.ok(!a.equals(b));
    assert.ok(a.subarray(0, 20).equals(b.subarray(0, 20)));
  });

  it('rejects what is not a store path name', () => {
    const out = Buffer.alloc(STORE_KEY_BYTES);
    for (const bad of ['.links', 'trash', `${'e'.repeat(32)}-x`, `${'1'.repeat(32)}-.hidden`, `${'1'.repeat(31)}-x`, `${'1'.repeat(32)}-`]) assert.equal(packStoreKey(bad, out, 0), false, bad);
  });

  it('baseNameIn takes only entries directly in the store dir', () => {
    assert.equal(baseNameIn('/nix/store', '/nix/store/abc-x'), 'abc-x');
    assert.equal(baseNameIn('/nix/store', '/nix/store/abc-x/bin'), undefined);
    assert.equal(baseNameIn('/nix/store', '/nix/storeabc-x'), undefined);
    assert.equal(baseNameIn('/nix/store', '/nix/store/'), undefined);
  });
});
