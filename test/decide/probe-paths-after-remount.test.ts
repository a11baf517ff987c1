import assert from 'node:assert/strict';
import { probePathsAfterRemount } from '../../agent/decide/index.ts';
import type { RemountRequest } from '../../agent/remount/index.ts';

describe('decide/probePathsAfterRemount', () => {
  const cases: ReadonlyArray<{ readonly name: string; readonly requests: readonly RemountRequest[]; readonly paths: readonly string[] }> = [
    { name: 'nothing answered, nothing to probe', requests: [], paths: [] },
    {
      name: 'a watcher request: the store path whose upper copy was deleted',
      requests: [{ source: 'watcher', storePath: '/nix/store/aaa-hello', upperPath: '/u/aaa-hello', lowerPath: '/l/aaa-hello' }],
      paths: ['/nix/store/aaa-hello'],
    },
    {
      name: 'a probe request: the path it saw stale',
      requests: [{ source: 'probe', path: '/nix/store/bbb-x', symptom: 'estale' }],
      paths: ['/nix/store/bbb-x'],
    },
    {
      name: 'a small lower growth: every new path',
      requests: [{ source: 'lower-grew', paths: ['/nix/store/c1', '/nix/store/c2'] }],
      paths: ['/nix/store/c1', '/nix/store/c2'],
    },
    { name: "Nix's hook names no path", requests: [{ source: 'nix-hook', mergedStoreDir: '/nix/store' }], paths: [] },
    { name: 'a manual request names no path', requests: [{ source: 'manual', by: 'root', note: 'after GC' }], paths: [] },
    {
      name: 'several requests: their paths in request order, duplicates kept',
      requests: [
        { source: 'probe', path: '/nix/store/d', symptom: 'serves-deleted' },
        { source: 'manual', by: 'root' },
        { source: 'lower-grew', paths: ['/nix/store/e'] },
        { source: 'probe', path: '/nix/store/d', symptom: 'estale' },
      ],
      paths: ['/nix/store/d', '/nix/store/e', '/nix/store/d'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(probePathsAfterRemount(c.requests), c.paths));
  }

  it('a big lower growth: only its first 100 paths, each growth on its own', () => {
    const grew = (prefix: string, n: number): RemountRequest => ({
      source: 'lower-grew',
      paths: Array.from({ length: n }, (_, i) => `/nix/store/${prefix}${i}`),
    });
    const paths = probePathsAfterRemount([grew('f', 250), grew('g', 3)]);
    assert.equal(paths.length, 103);
    assert.equal(paths[0], '/nix/store/f0');
    assert.equal(paths[99], '/nix/store/f99');
    assert.deepEqual(paths.slice(100), ['/nix/store/g0', '/nix/store/g1', '/nix/store/g2']);
  });
});
