import assert from 'node:assert/strict';
import { posix } from 'node:path';
import fc from 'fast-check';
import { canonAbsolutePath, joinCanonPath } from '../../agent/mount/index.ts';

describe('canon-path', () => {
  it("canonicalises lexically, as Nix's canonPath does", () => {
    assert.equal(canonAbsolutePath('/mnt//nix/./store/'), '/mnt/nix/store');
    assert.equal(canonAbsolutePath('/a/b/../../..'), '/');
    assert.equal(canonAbsolutePath('//'), '/');
    assert.equal(canonAbsolutePath('relative/x'), undefined);
    assert.equal(canonAbsolutePath(''), undefined);
  });

  it('agrees with path.posix.resolve on absolute paths', () => {
    const component = fc.oneof(
      fc.constantFrom('', '.', '..', 'nix', 'store'),
      fc.string({ unit: 'binary', maxLength: 5 }).filter((s) => !s.includes('/')),
    );
    fc.assert(
      fc.property(fc.array(component, { maxLength: 8 }), (parts) => {
        const path = `/${parts.join('/')}`;
        assert.equal(canonAbsolutePath(path), posix.resolve(path));
      }),
      { numRuns: 2000 },
    );
  });

  it('joins under the root without doubling the slash', () => {
    assert.equal(joinCanonPath('/', 'nix', 'store'), '/nix/store');
    assert.equal(joinCanonPath('/r', 'nix', 'var', 'nix'), '/r/nix/var/nix');
  });
});
