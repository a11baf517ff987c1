import assert from 'node:assert/strict';
import { driftLogLine } from '../../agent/decide/index.ts';
import type { DriftEvent } from '../../agent/watch/index.ts';

const AT = '2025-01-01T00:00:00.000Z';

describe('decide/driftLogLine', () => {
  const cases: ReadonlyArray<{ readonly event: DriftEvent; readonly level: string; readonly message: string; readonly fields: Record<string, unknown> }> = [
    {
      event: { type: 'lower-grew', source: 'startup', at: AT, paths: ['/nix/store/a'] },
      level: 'warn',
      message: 'drift: the lower store grew by 1 path since the agent last ran; a remount makes them visible',
      fields: { event: 'lower-grew', source: 'startup', at: AT, paths: ['/nix/store/a'] },
    },
    {
      event: { type: 'lower-shrank', source: 'watch', at: AT, paths: ['/nix/store/b', '/nix/store/c'], brokenUpperClosures: null },
      level: 'error',
      message: 'drift: the lower store lost 2 paths; upper closures unknown (upper DB unreadable)',
      fields: { event: 'lower-shrank', source: 'watch', at: AT, paths: ['/nix/store/b', '/nix/store/c'], brokenUpperClosures: null },
    },
    {
      event: { type: 'upper-path-deleted', source: 'watch', at: AT, path: '/nix/store/d', alsoInLower: true, entry: 'object' },
      level: 'warn',
      message: 'stale view: the upper copy of /nix/store/d was deleted directly while the lower store has it',
      fields: { event: 'upper-path-deleted', source: 'watch', at: AT, path: '/nix/store/d', alsoInLower: true, entry: 'object' },
    },
    {
      event: { type: 'upper-path-added', source: 'watch', at: AT, path: '/nix/store/e' },
      level: 'debug',
      message: 'upper layer: /nix/store/e added',
      fields: { event: 'upper-path-added', source: 'watch', at: AT, path: '/nix/store/e' },
    },
  ];
  for (const c of cases) {
    it(`${c.event.type} (${c.event.source}): level, wording and the event's own fields`, () => {
      assert.deepEqual(driftLogLine(c.event), { level: c.level, message: c.message, fields: c.fields });
    });
  }

  it('a list of more than 10 items is logged as its count and its first 10', () => {
    const paths = Array.from({ length: 11 }, (_, i) => `/nix/store/p${i}`);
    const line = driftLogLine({ type: 'lower-grew', source: 'watch', at: AT, paths });
    assert.deepEqual(line.fields['paths'], { count: 11, first: paths.slice(0, 10) });
    assert.equal(line.message, 'drift: the lower store grew by 11 paths; a remount makes them visible');
  });

  it('a list of exactly 10 items is logged in full', () => {
    const paths = Array.from({ length: 10 }, (_, i) => `/nix/store/p${i}`);
    assert.deepEqual(driftLogLine({ type: 'lower-shrank', source: 'watch', at: AT, paths, brokenUpperClosures: [] }).fields['paths'], paths);
  });
});
