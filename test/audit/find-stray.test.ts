import assert from 'node:assert/strict';
import { findStrays, isNixOwnEntry } from '../../agent/audit/find-stray.ts';
import { literalFacts, pathOf } from './support/literal-facts.ts';

describe('findStrays', () => {
  it("reports unregistered upper entries, not registered ones, whiteouts over lower entries or Nix's own files", () => {
    const facts = literalFacts({
      upperDb: [{ label: 'registered' }],
      lowerDb: [{ label: 'lower-valid' }],
      upperLayer: {
        registered: 'directory',
        'lower-valid': 'directory',
        leftover: 'directory',
        'masks-lower-stray': 'device-whiteout',
        'masks-nothing': 'xattr-whiteout',
        'x.lock': 'file',
        '!.links': 'directory',
        '!trash': 'directory',
        '!tmp-build-123': 'directory',
      },
      lowerLayer: ['masks-lower-stray'],
    });
    const found = findStrays(facts).map((f) => [f.evidence['path'], f.severity, f.evidence['kind']]);
    assert.deepEqual(found, [
      [pathOf('leftover'), 'warning', 'directory'],
      [pathOf('masks-nothing'), 'info', 'whiteout'],
      ['/nix/store/tmp-build-123', 'warning', 'directory'],
    ]);
  });

  it("knows Nix's own entries", () => {
    assert.equal(isNixOwnEntry('.links', 'directory'), true);
    assert.equal(isNixOwnEntry('abc.lock', 'file'), true);
    assert.equal(isNixOwnEntry('abc.lock', 'directory'), false);
    assert.equal(isNixOwnEntry('lost+found', 'directory'), true);
    assert.equal(isNixOwnEntry('tmp-1', 'directory'), false);
  });
});
