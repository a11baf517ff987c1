import assert from 'node:assert/strict';
import { findDangling } from '../../agent/audit/find-dangling.ts';
import { locateRows } from '../../agent/audit/locate.ts';
import { literalFacts, pathOf, type LiteralStore } from './support/literal-facts.ts';

function dangling(store: LiteralStore): string[] {
  const facts = literalFacts(store);
  return findDangling(facts, locateRows(facts.upperDb, facts.upperListing, facts.lowerEntries)).map((f) => f.evidence['path'] as string);
}

describe('findDangling', () => {
  it('reports upper-DB paths in neither layer, and only those', () => {
    const store: LiteralStore = {
      upperDb: [{ label: 'in-upper' }, { label: 'in-lower' }, { label: 'nowhere' }, { label: 'gone-from-lower' }],
      lowerDb: [{ label: 'in-lower' }, { label: 'gone-from-lower' }],
      upperLayer: { 'in-upper': 'directory' },
      lowerLayer: ['in-lower'],
    };
    assert.deepEqual(dangling(store).sort(), [pathOf('gone-from-lower'), pathOf('nowhere')].sort());
  });

  it('says whether the lower DB still registers the missing path', () => {
    const facts = literalFacts({ upperDb: [{ label: 'a' }, { label: 'b' }], lowerDb: [{ label: 'a' }], upperLayer: {}, lowerLayer: [] });
    const findings = findDangling(facts, locateRows(facts.upperDb, facts.upperListing, facts.lowerEntries));
    assert.deepEqual(
      findings.map((f) => [f.evidence['path'], f.evidence['registeredInLowerDb'], f.severity]),
      [
        [pathOf('a'), true, 'error'],
        [pathOf('b'), false, 'error'],
      ],
    );
  });

  it('leaves a path hidden by a whiteout to the masked decider, but a whiteout over nothing is dangling', () => {
    const store: LiteralStore = {
      upperDb: [{ label: 'hidden' }, { label: 'whited-out-nothing' }],
      lowerDb: [],
      upperLayer: { hidden: 'device-whiteout', 'whited-out-nothing': 'xattr-whiteout' },
      lowerLayer: ['hidden'],
    };
    assert.deepEqual(dangling(store), [pathOf('whited-out-nothing')]);
  });
});
