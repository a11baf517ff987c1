import assert from 'node:assert/strict';
import { findDiverged } from '../../agent/audit/find-diverged.ts';
import { literalFacts, pathOf } from './support/literal-facts.ts';

describe('findDiverged', () => {
  it('an error when the narHashes differ, a warning when only the references do, nothing when both agree', () => {
    const facts = literalFacts({
      upperDb: [
        { label: 'dep' },
        { label: 'same', refs: ['dep', 'same'] },
        { label: 'rehashed', hash: 2 },
        { label: 'rewired', refs: ['dep'] },
        { label: 'upper-only' },
      ],
      lowerDb: [{ label: 'dep' }, { label: 'same', refs: ['same', 'dep'] }, { label: 'rehashed', hash: 3 }, { label: 'rewired', refs: ['dep', 'rewired'] }],
      upperLayer: {},
      lowerLayer: [],
    });
    const findings = findDiverged(facts, {
      referencesOf: (path) => (path === pathOf('rewired') ? [pathOf('dep'), pathOf('rewired')] : undefined),
      narHashOf: (path) => (path === pathOf('rehashed') ? `sha256:${'03'.repeat(32)}` : undefined),
    });
    assert.deepEqual(
      findings.map((f) => [f.evidence['path'], f.severity, f.evidence['narHashDiffers'], f.evidence['referencesDiffer']]),
      [
        [pathOf('rehashed'), 'error', true, false],
        [pathOf('rewired'), 'warning', false, true],
      ],
    );
    const [rehashed, rewired] = findings;
    assert.equal(rehashed!.evidence['upperNarHash'], `sha256:${'02'.repeat(32)}`);
    assert.equal(rehashed!.evidence['lowerNarHash'], `sha256:${'03'.repeat(32)}`);
    assert.deepEqual(rewired!.evidence['upperReferences'], [pathOf('dep')]);
    assert.deepEqual(rewired!.evidence['lowerReferences'], [pathOf('dep'), pathOf('rewired')]);
  });

  it('a reference the lower DB records to a path the upper DB lacks is a difference', () => {
    const facts = literalFacts({ upperDb: [{ label: 'p' }], lowerDb: [{ label: 'x' }, { label: 'p', refs: ['x'] }], upperLayer: {}, lowerLayer: [] });
    assert.equal(findDiverged(facts).length, 1);
  });
});
