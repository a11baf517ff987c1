import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StringPack } from '../../agent/audit/string-pack.ts';

describe('StringPack', () => {
  it('returns what was pushed, also after trimming and export', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[ -~]{0,80}$/), { maxLength: 2000 }), (strings) => {
        const pack = new StringPack();
        strings.forEach((s, i) => assert.equal(pack.push(s), i));
        for (const view of [pack, pack.trimmed(), StringPack.fromData(pack.trimmed().export())]) {
          assert.equal(view.length, strings.length);
          strings.forEach((s, i) => assert.equal(view.get(i), s));
        }
      }),
      { numRuns: 30 },
    );
    assert.throws(() => new StringPack().get(0), RangeError);
  });
});
