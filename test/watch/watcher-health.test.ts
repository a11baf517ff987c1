import assert from 'node:assert/strict';
import { nextWatcherHealth, WatcherHealthState, type HealthObservation, type WatcherHealth, type WatcherHealthEvent } from '../../agent/watch/index.ts';

const T0 = '2025-03-01T12:00:00.000Z';
const T1 = '2025-03-01T12:00:05.000Z';
const TARGET = '/srv/lower/nix/store';
const base = { watcher: 'lower-store-dir', target: TARGET } as const;

const STARTING: WatcherHealth = { ...base, state: 'starting' };
const UP: WatcherHealth = { ...base, state: 'up', since: T0 };
const DOWN: WatcherHealth = { ...base, state: 'down', since: T0, reason: 'vanished', detail: 'ENOENT' };
const WATCHING: HealthObservation = { up: true };
const GONE: HealthObservation = { up: false, reason: 'vanished', detail: 'ENOENT' };

describe('watch/watcher-health: nextWatcherHealth', () => {
  const rows: readonly { name: string; from: WatcherHealth; seen: HealthObservation; health: WatcherHealth; event: WatcherHealthEvent | undefined }[] = [
    {
      name: 'starting, then watching: up, no event (not a recovery)',
      from: STARTING,
      seen: WATCHING,
      health: { ...base, state: 'up', since: T1 },
      event: undefined,
    },
    {
      name: 'starting, then not watching: down, watcher-down',
      from: STARTING,
      seen: GONE,
      health: { ...base, state: 'down', since: T1, reason: 'vanished', detail: 'ENOENT' },
      event: { type: 'watcher-down', ...base, at: T1, reason: 'vanished', detail: 'ENOENT' },
    },
    { name: 'up, still watching: unchanged (since stays)', from: UP, seen: WATCHING, health: UP, event: undefined },
    {
      name: 'up, then replaced: down since now, watcher-down',
      from: UP,
      seen: { up: false, reason: 'replaced' },
      health: { ...base, state: 'down', since: T1, reason: 'replaced', detail: undefined },
      event: { type: 'watcher-down', ...base, at: T1, reason: 'replaced', detail: undefined },
    },
    {
      name: 'down, still gone but now a file: since and reason kept, detail refreshed, no event',
      from: DOWN,
      seen: { up: false, reason: 'not-a-directory', detail: 'ENOTDIR' },
      health: { ...DOWN, detail: 'ENOTDIR' },
      event: undefined,
    },
    {
      name: 'down, then watching: up since now, watcher-up with when and why it went down',
      from: DOWN,
      seen: WATCHING,
      health: { ...base, state: 'up', since: T1 },
      event: { type: 'watcher-up', ...base, at: T1, downSince: T0, reason: 'vanished' },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(nextWatcherHealth(row.from, row.seen, T1), { health: row.health, event: row.event });
    });
  }

  it('WatcherHealthState: one watcher-down per streak of failures, one watcher-up when it ends', () => {
    const events: WatcherHealthEvent[] = [];
    const state = new WatcherHealthState(
      'mount-table',
      '/proc/self/mountinfo',
      () => new Date(T1),
      (e) => events.push(e),
    );
    for (const seen of [WATCHING, GONE, GONE, GONE, WATCHING, WATCHING, GONE]) state.observe(seen);
    assert.deepEqual(
      events.map((e) => e.type),
      ['watcher-down', 'watcher-up', 'watcher-down'],
    );
    assert.equal(state.current.state, 'down');
  });
});
