import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { VerifyItem } from '../../agent/audit/find-corrupt.ts';
import { expectedNarSize, verifyBatches } from '../../agent/audit/verify-batches.ts';

const item = (name: string, ...sizes: number[]): VerifyItem => ({
  path: `/nix/store/${name}`,
  file: `/lower/nix/store/${name}`,
  layer: 'lower',
  expected: sizes.map((narSize, i) => ({ db: i === 0 ? 'lower' : 'upper', dbFile: '/db.sqlite', narHash: Buffer.alloc(32), narSize })),
});
const names = (batches: VerifyItem[][]): string[][] => batches.map((b) => b.map((i) => i.path.slice('/nix/store/'.length)));

describe('audit/verify-batches', () => {
  const limits = { bytes: 100, items: 3 };

  it('closes a batch at the item limit or once its expected bytes reach the byte limit', () => {
    const items = [item('a', 10), item('b', 10), item('c', 10), item('d', 10), item('e', 60), item('f', 50), item('g', 1)];
    assert.deepEqual(names([...verifyBatches(items, limits)]), [['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
  });

  it('gives an object of the byte limit or more a batch of its own', () => {
    const items = [item('a', 10), item('big', 100), item('b', 10), item('huge', 500), item('huger', 500)];
    assert.deepEqual(names([...verifyBatches(items, limits)]), [['a'], ['big'], ['b'], ['huge'], ['huger']]);
  });

  it('sizes an item by the largest narSize its DBs record, 0 with none', () => {
    assert.equal(expectedNarSize(item('x', 5, 70)), 70);
    assert.equal(expectedNarSize(item('y')), 0);
  });

  it('pulls items lazily: a batch is yielded before the source is read further', () => {
    let pulled = 0;
    const source = (function* () {
      for (let i = 0; ; i++) {
        pulled++;
        yield item(`p${i}`, 1);
      }
    })();
    const first = verifyBatches(source, limits).next();
    assert.equal(first.value?.length, 3);
    assert.equal(pulled, 3);
  });

  it('keeps every item once, in order, and respects both limits (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 250 }), { maxLength: 60 }), (sizes) => {
        const items = sizes.map((s, i) => item(`i${i}`, s));
        const batches = [...verifyBatches(items, limits)];
        assert.deepEqual(batches.flat(), items);
        for (const batch of batches) {
          assert.ok(batch.length >= 1 && batch.length <= limits.items);
          // Only the last item may take a batch to or past the byte limit, and a big item is alone.
          const before = batch.slice(0, -1).reduce((sum, i) => sum + expectedNarSize(i), 0);
          assert.ok(before < limits.bytes);
          if (batch.some((i) => expectedNarSize(i) >= limits.bytes)) assert.equal(batch.length, 1);
        }
      }),
    );
  });
});
