import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EntrySet, EntrySetBuilder, diffEntrySets, sortKeyOrder } from '../../agent/baseline/index.ts';
import { NIX_BASE32_ALPHABET, encodeNixBase32 } from '../../agent/store/nix-base32.ts';

/** A valid store path base name: 32 Nix base-32 chars (any 20 bytes, encoded), a dash, a name. */
const hashPart = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => encodeNixBase32(bytes));
const namePart = fc.stringMatching(/^[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]{0,40}$/);
const baseName = fc.tuple(hashPart, namePart).map(([h, n]) => `${h}-${n}`);
/** Names that share hash parts (a few of them), so ties on the first 20 key bytes happen. */
const names = fc
  .tuple(fc.array(hashPart, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), namePart), { maxLength: 60 }))
  .map(([hashes, items]) => items.map(([i, n]) => `${hashes[i % hashes.length]}-${n}`));
const mixed = fc.tuple(fc.array(baseName, { maxLength: 40 }), names).map(([a, b]) => [...a, ...b]);

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe('baseline/entry-set', () => {
  it('holds exactly the valid names, each once, and gives them back unchanged', () => {
    fc.assert(
      fc.property(mixed, fc.array(fc.constantFrom('.links', 'tmp-123', `${'0'.repeat(32)}`, 'lost+found')), (valid, invalid) => {
        const set = EntrySet.fromNames([...valid, ...invalid, ...valid]);
        assert.equal(set.count, new Set(valid).size);
        assert.deepEqual(sorted(set.names()), sorted(new Set(valid)));
        for (const name of valid) assert.equal(set.has(name), true);
        for (const name of invalid) assert.equal(set.has(name), false);
      }),
    );
  });

  it('tells apart names that share a hash part (a path and its .lock file)', () => {
    const h = '0'.repeat(31) + '1';
    const set = EntrySet.fromNames([`${h}-foo`, `${h}-foo.lock`]);
    assert.equal(set.count, 2);
    assert.equal(set.has(`${h}-foo`), true);
    assert.equal(set.has(`${h}-foo.lock`), true);
    assert.equal(set.has(`${h}-foo.lock2`), false);
    assert.equal(set.has(`${h}-fo`), false);
  });

  it('sortKeyOrder sorts bytewise like Buffer.compare, also with long shared prefixes', () => {
    const keyArrays = fc.oneof(
      fc.array(fc.uint8Array({ minLength: 24, maxLength: 24 }), { maxLength: 200 }),
      // Skewed: every key in one or two first-two-byte buckets, more than the insertion-sort limit.
      fc
        .array(fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 22, maxLength: 22 })), { minLength: 33, maxLength: 200 })
        .map((items) => items.map(([b, rest]) => Uint8Array.from([0, b ? 1 : 0, ...rest]))),
    );
    fc.assert(
      fc.property(keyArrays, (keys) => {
        const flat = new Uint8Array(keys.length * 24);
        keys.forEach((k, i) => flat.set(k, i * 24));
        const order = sortKeyOrder(flat, keys.length);
        const expected = keys
          .map((k, i) => ({ k, i }))
          .sort((a, b) => Buffer.compare(a.k, b.k) || a.i - b.i)
          .map((x) => x.i);
        assert.deepEqual(Array.from(order), expected);
      }),
    );
  });

  it('keeps keys strictly ascending after the in-place sort', () => {
    fc.assert(
      fc.property(mixed, (valid) => {
        const builder = new EntrySetBuilder(2);
        for (const name of valid) builder.add(name);
        const set = builder.finish();
        for (let i = 1; i < set.count; i++) assert.ok(Buffer.compare(set.keys.subarray((i - 1) * 24, i * 24), set.keys.subarray(i * 24, (i + 1) * 24)) < 0);
      }),
    );
  });

  it('withChanges equals building the changed set from scratch', () => {
    fc.assert(
      fc.property(
        mixed.chain((base) =>
          fc.tuple(
            fc.constant(base),
            fc.tuple(fc.subarray(base), mixed).map(([a, b]) => [...a, ...b]),
            fc.tuple(fc.subarray(base), mixed).map(([a, b]) => [...a, ...b]),
          ),
        ),
        ([base, added, removed]) => {
          const set = EntrySet.fromNames(base);
          const changed = set.withChanges(added, removed);
          const expected = new Set(base);
          for (const name of removed) expected.delete(name);
          for (const name of added) expected.add(name);
          // Removal applies to the base, then additions: a name both added and removed ends up present.
          assert.deepEqual(sorted(changed.names()), sorted(expected));
          assert.deepEqual(Buffer.from(changed.keys), Buffer.from(EntrySet.fromNames(expected).keys));
        },
      ),
    );
  });

  it('diffs two sets like set differences', () => {
    fc.assert(
      fc.property(mixed, mixed, (a, b) => {
        const before = EntrySet.fromNames(a);
        const after = EntrySet.fromNames(b);
        const diff = diffEntrySets(before, after);
        assert.deepEqual(sorted(diff.added), sorted(new Set(b.filter((x) => !a.includes(x)))));
        assert.deepEqual(sorted(diff.removed), sorted(new Set(a.filter((x) => !b.includes(x)))));
      }),
    );
  });

  it('names sections are the same whether stored in key order or gathered', () => {
    const list = Array.from({ length: 3000 }, (_, i) => `${encodeNixBase32(Uint8Array.from({ length: 20 }, (_, j) => (i * 31 + j * 7) & 0xff))}-pkg-${i}`);
    const built = EntrySet.fromNames(list);
    const gathered = Buffer.concat([...built.namesSection(100)]);
    assert.equal(gathered.length, built.namesBytes);
    const reloaded = new EntrySet(built.keys, built.count, gathered);
    assert.deepEqual([...reloaded.names()], [...built.names()]);
    assert.equal(reloaded.namesBytes, built.namesBytes);
    assert.ok(NIX_BASE32_ALPHABET.length === 32);
  });
});
