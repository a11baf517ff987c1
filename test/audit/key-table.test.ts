import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyTable } from '../../agent/audit/key-table.ts';
import { STORE_PATH_KEY_BYTES } from '../../agent/store/store-path-key.ts';

const key = fc.uint8Array({ minLength: STORE_PATH_KEY_BYTES, maxLength: STORE_PATH_KEY_BYTES }).map((bytes) => Buffer.from(bytes));

describe('KeyTable', () => {
  it('behaves like a Map from keys to insertion ids, through growth, trimming and a trip through export', () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 3000 }), fc.array(key, { maxLength: 50 }), (added, probes) => {
        const table = new KeyTable(4);
        const model = new Map<string, number>();
        for (const k of added) {
          const id = table.add(k);
          const hex = k.toString('hex');
          if (!model.has(hex)) model.set(hex, model.size);
          assert.equal(id, model.get(hex));
        }
        for (const view of [table, table.trimmed(), KeyTable.fromData(table.trimmed().export())]) {
          assert.equal(view.size, model.size);
          for (const k of [...added, ...probes]) assert.equal(view.find(k), model.get(k.toString('hex')) ?? -1);
          for (const [hex, id] of model) assert.equal(view.keyAt(id).toString('hex'), hex);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('finds a key at an offset inside a larger buffer', () => {
    const table = new KeyTable();
    const big = Buffer.alloc(STORE_PATH_KEY_BYTES * 3, 7);
    big.fill(9, STORE_PATH_KEY_BYTES, STORE_PATH_KEY_BYTES * 2);
    assert.equal(table.add(big, STORE_PATH_KEY_BYTES), 0);
    assert.equal(table.find(Buffer.alloc(STORE_PATH_KEY_BYTES, 9)), 0);
    assert.equal(table.find(big, 0), -1);
  });
});
