import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DriftEvent } from '../../agent/watch/index.ts';
import type { Verdict } from '../../agent/probe/index.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireMountNamespaces } from '../support/requirements.ts';

describe('watch/layer-watcher on the layers of a real overlay (private mount namespace)', () => {
  let dir = '';
  let result: { names: Record<string, string>; steps: Record<string, DriftEvent[]>; probe: { name: string; verdict: Verdict }[] };

  before(function () {
    requireMountNamespaces(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-overlay-watch-'));
    const child = path.join(import.meta.dirname, 'fixtures', 'overlay-watch-child.ts');
    const run = runInFreshNamespace([process.execPath, child, dir]);
    assert.equal(run.status, 0, run.stderr);
    result = JSON.parse(run.stdout) as typeof result;
  });
  after(() => dir !== '' && fs.rmSync(dir, { recursive: true, force: true }));

  const shape = (events: DriftEvent[]) =>
    events.map((e) => {
      const { source, at, ...rest } = e;
      assert.equal(source, 'watch');
      assert.ok(!Number.isNaN(Date.parse(at)));
      return rest;
    });

  it('sees a path written through the merged view as added to the upper layer', () => {
    assert.deepEqual(shape(result.steps['build through the merged view']!), [{ type: 'upper-path-added', path: `/nix/store/${result.names['built']}` }]);
  });

  it('sees a lower path deleted through the merged view as a whiteout masking it (no stale view)', () => {
    assert.deepEqual(shape(result.steps['delete a lower path through the merged view']!), [
      { type: 'upper-whiteout-added', path: `/nix/store/${result.names['lowerOnly']}`, masksLower: true },
    ]);
  });

  it('sees a duplicate deleted directly in the upper layer, with alsoInLower, and the probe confirms the stale view', () => {
    assert.deepEqual(shape(result.steps['delete a duplicate directly in the upper layer']!), [
      { type: 'upper-path-deleted', path: `/nix/store/${result.names['duplicate']}`, alsoInLower: true, entry: 'object' },
    ]);
    assert.deepEqual(
      result.probe.map((r) => [r.name, r.verdict.state]),
      [[result.names['duplicate'], 'stale']],
    );
  });
});
