import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildCsr, degree, EdgeList, neighbours } from '../../agent/audit/csr.ts';

describe('CSR graphs', () => {
  it('groups edges by source (or by target, reversed), keeping their order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 300 }))),
        ([n, edges]) => {
          const list = new EdgeList();
          for (const [a, b] of edges) list.add(a, b);
          const forward = buildCsr(list.pairs(), n);
          const backward = buildCsr(list.pairs(), n, true);
          for (let node = 0; node < n; node++) {
            assert.deepEqual(
              Array.from(neighbours(forward, node)),
              edges.filter(([a]) => a === node).map(([, b]) => b),
            );
            assert.deepEqual(
              Array.from(neighbours(backward, node)),
              edges.filter(([, b]) => b === node).map(([a]) => a),
            );
            assert.equal(degree(forward, node), edges.filter(([a]) => a === node).length);
          }
        },
      ),
    );
  });
});
