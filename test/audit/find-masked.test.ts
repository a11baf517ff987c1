import assert from 'node:assert/strict';
import { findMasked } from '../../agent/audit/find-masked.ts';
import { literalFacts, pathOf } from './support/literal-facts.ts';

describe('findMasked', () => {
  const base = {
    upperDb: [{ label: 'hidden' }],
    lowerDb: [{ label: 'hidden' }, { label: 'opaque' }, { label: 'plain' }],
    upperLayer: { hidden: 'device-whiteout', opaque: 'directory', plain: 'directory', 'lower-stray': 'device-whiteout' } as const,
    lowerLayer: ['hidden', 'opaque', 'plain', 'lower-stray'],
  };

  it('a whiteout over a lower-valid path is an error, an opaque dir a warning, a plain dir nothing', () => {
    const findings = findMasked(literalFacts({ ...base, upperLayer: { ...base.upperLayer, opaque: 'opaque-directory' } }));
    assert.deepEqual(
      findings.map((f) => [f.evidence['path'], f.severity, f.evidence['marker']]),
      [
        [pathOf('hidden'), 'error', 'whiteout'],
        [pathOf('opaque'), 'warning', 'opaque'],
      ],
    );
    assert.equal(findings[0]!.evidence['registeredInUpperDb'], true);
  });

  it('names the whiteout form: a device, or an empty file marked by xattr', () => {
    const findings = findMasked(literalFacts({ ...base, upperLayer: { ...base.upperLayer, opaque: 'xattr-whiteout' } }));
    assert.deepEqual(
      findings.map((f) => [f.evidence['path'], f.severity, f.evidence['form']]),
      [
        [pathOf('hidden'), 'error', 'character device 0/0'],
        [pathOf('opaque'), 'error', 'overlay.whiteout xattr'],
      ],
    );
  });

  it('without xattrs, says once that opaque dirs were not checked (device whiteouts still are)', () => {
    const findings = findMasked(literalFacts({ ...base, xattrsUnreadable: true }));
    assert.deepEqual(
      findings.map((f) => f.severity),
      ['error', 'info'],
    );
    assert.equal(findings[1]!.evidence['checked'], false);
    assert.equal(findings[1]!.evidence['candidates'], 2);
  });
});
