import assert from 'node:assert/strict';
import { findBrokenClosures } from '../../agent/audit/find-broken-closure.ts';
import { locateRows } from '../../agent/audit/locate.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { literalFacts, pathOf, type LiteralStore } from './support/literal-facts.ts';

function broken(store: LiteralStore, limits?: Parameters<typeof findBrokenClosures>[2]): Finding[] {
  const facts = literalFacts(store);
  return findBrokenClosures(facts, locateRows(facts.upperDb, facts.upperListing, facts.lowerEntries), limits);
}

// app → lib → libc(gone); tool → libc; doc (no refs); libc also referenced by itself.
const diamond: LiteralStore = {
  upperDb: [
    { label: 'libc', refs: ['libc'] },
    { label: 'lib', refs: ['libc'] },
    { label: 'app', refs: ['lib', 'libc'] },
    { label: 'tool', refs: ['libc'] },
    { label: 'doc' },
  ],
  lowerDb: [{ label: 'libc' }, { label: 'lib' }],
  upperLayer: { app: 'directory', tool: 'directory', doc: 'file' },
  lowerLayer: ['lib'],
};

describe('findBrokenClosures', () => {
  it('names the gone path, its direct referrers, the roots it breaks, and shortest chains from them', () => {
    const [finding, ...rest] = broken(diamond);
    assert.equal(rest.length, 0);
    assert.equal(finding!.severity, 'error');
    assert.equal(finding!.evidence['path'], pathOf('libc'));
    assert.equal(finding!.evidence['reason'], 'gone');
    assert.deepEqual([...(finding!.evidence['referrers'] as string[])].sort(), [pathOf('lib'), pathOf('app'), pathOf('tool')].sort());
    assert.deepEqual([...(finding!.evidence['roots'] as string[])].sort(), [pathOf('app'), pathOf('tool')].sort());
    assert.equal(finding!.evidence['rootCount'], 2);
    for (const chain of finding!.evidence['chains'] as string[][]) {
      assert.equal(chain.at(-1), pathOf('libc'));
      assert.equal(chain.length, 2, 'app references libc directly: the shortest chain skips lib');
    }
  });

  it('a gone path nothing references breaks no closure', () => {
    assert.deepEqual(broken({ upperDb: [{ label: 'alone' }], lowerDb: [], upperLayer: {}, lowerLayer: [] }), []);
  });

  it('a path hidden by a whiteout breaks closures too, with reason masked', () => {
    const [finding] = broken({
      upperDb: [{ label: 'dep' }, { label: 'user', refs: ['dep'] }],
      lowerDb: [{ label: 'dep' }],
      upperLayer: { dep: 'xattr-whiteout', user: 'file' },
      lowerLayer: ['dep'],
    });
    assert.equal(finding?.evidence['reason'], 'masked');
    assert.deepEqual(finding?.evidence['roots'], [pathOf('user')]);
    assert.deepEqual(finding?.evidence['chains'], [[pathOf('user'), pathOf('dep')]]);
  });

  it('caps the lists but keeps the counts; past the step budget roots are marked incomplete', () => {
    const many: LiteralStore = {
      upperDb: [{ label: 'base' }, ...Array.from({ length: 30 }, (_, i) => ({ label: `user${i}`, refs: ['base'] }))],
      lowerDb: [],
      upperLayer: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`user${i}`, 'file' as const])),
      lowerLayer: [],
    };
    const [capped] = broken(many, { listed: 5, chains: 1, budget: 1_000_000 });
    assert.equal((capped!.evidence['referrers'] as string[]).length, 5);
    assert.equal(capped!.evidence['referrerCount'], 30);
    assert.equal(capped!.evidence['rootCount'], 30);
    assert.equal((capped!.evidence['chains'] as string[][]).length, 1);
    const [starved] = broken(many, { listed: 5, chains: 1, budget: 3 });
    assert.equal(starved!.evidence['rootsComplete'], false);
    assert.equal(starved!.evidence['rootCount'], undefined);
  });
});
