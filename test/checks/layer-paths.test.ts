import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cwdBySuffix,
  LEXICAL_VIEW,
  normalizeRelative,
  resolveAbsolute,
  resolveMountedPaths,
  suffixMatches,
  type RealpathView,
} from '../../agent/checks/layer-paths.ts';

describe('layer paths', () => {
  it('normalizes relative paths, counting leading ..', () => {
    assert.deepEqual(normalizeRelative('./a//b/../c/'), { up: 0, rest: 'a/c' });
    assert.deepEqual(normalizeRelative('../../x/./y'), { up: 2, rest: 'x/y' });
    assert.deepEqual(normalizeRelative('a/../../b'), { up: 1, rest: 'b' });
  });

  it('infers the working directory from a suffix, never from a path with leading ..', () => {
    assert.equal(cwdBySuffix('lower/nix/store', '/srv/x/lower/nix/store'), '/srv/x');
    assert.equal(cwdBySuffix('./srv', '/srv'), '/');
    assert.equal(cwdBySuffix('store', '/srv/nix/restore'), undefined, 'whole components only');
    assert.equal(cwdBySuffix('../x/lower', '/a/x/lower'), undefined);
    assert.equal(suffixMatches('../x/lower', '/a/x/lower'), true);
  });

  it('resolves with the view (realpath) when the path exists there, else lexically', () => {
    const view: RealpathView = { realpath: (p) => (p === '/a/link' ? '/a/target' : undefined) };
    assert.deepEqual(resolveAbsolute('/a/./link/', view), { given: '/a/./link/', path: '/a/target', how: 'realpath' });
    assert.deepEqual(resolveAbsolute('/a/b/../c', view), { given: '/a/b/../c', path: '/a/c', how: 'lexical' });
  });

  it('resolves every relative path of one mount against the one inferred directory', () => {
    const { paths, cwd } = resolveMountedPaths(
      [
        { given: 'modules', expected: '/srv/l/nix/store' },
        { given: 'l/nix/store', expected: '/srv/l/nix/store' },
        { given: '../other/u', expected: '/elsewhere/u' },
        { given: '/abs/work' },
      ],
      LEXICAL_VIEW,
    );
    assert.equal(cwd?.path, '/srv');
    assert.deepEqual(
      paths.map((p) => [p.path, p.how]),
      [
        ['/srv/modules', 'relative-resolved'],
        ['/srv/l/nix/store', 'relative-resolved'],
        ['/other/u', 'relative-resolved'],
        ['/abs/work', 'lexical'],
      ],
    );
  });

  it('appends the subdirectory a bind mount of the overlay shows', () => {
    const { paths } = resolveMountedPaths([{ given: '/l', expected: '/l/nix/store', subdir: '/nix/store' }], LEXICAL_VIEW);
    assert.equal(paths[0]?.path, '/l/nix/store');
  });

  it('a resolved absolute path is canonical: no . or .. components, no double or trailing slash', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', '.', '..', ''), { maxLength: 8 }), (parts) => {
        const { path } = resolveAbsolute(`/${parts.join('/')}`, LEXICAL_VIEW);
        assert.ok(path === '/' || (!path.endsWith('/') && !path.includes('//')));
        assert.ok(!path.split('/').some((p) => p === '.' || p === '..'));
      }),
    );
  });
});
