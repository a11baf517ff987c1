import assert from 'node:assert/strict';
import { decideOnWatcherHealth, watcherHealthLogLine } from '../../agent/decide/index.ts';
import { WATCHER_NAMES, type WatcherHealthEvent, type WatcherName } from '../../agent/watch/index.ts';

const AT = '2025-03-01T12:00:05.000Z';
const SINCE = '2025-03-01T12:00:00.000Z';
const TARGET: Readonly<Record<WatcherName, string>> = {
  'lower-store-dir': '/srv/lower/nix/store',
  'upper-layer': '/srv/upper/store',
  'lower-db': '/srv/lower/nix/var/nix/db',
  'mount-table': '/proc/self/mountinfo',
  'lower-daemon': '/run/snix/daemon.sock',
};
const down = (watcher: WatcherName, reason: 'vanished' | 'replaced' | 'unreadable' | 'unavailable' = 'vanished', detail?: string): WatcherHealthEvent => ({
  type: 'watcher-down',
  watcher,
  target: TARGET[watcher],
  at: AT,
  reason,
  detail,
});
const up = (watcher: WatcherName): WatcherHealthEvent => ({
  type: 'watcher-up',
  watcher,
  target: TARGET[watcher],
  at: AT,
  downSince: SINCE,
  reason: 'vanished',
});

describe('decide/watcher-health-decisions', () => {
  it('a layer directory lost or back re-runs the mount check; the lower daemon back saves a baseline; the DB directory and the mount table call for nothing', () => {
    const recheck = [{ kind: 'recheck-mount' }];
    assert.deepEqual(
      WATCHER_NAMES.map((w) => [w, decideOnWatcherHealth(down(w)), decideOnWatcherHealth(up(w))]),
      [
        ['lower-store-dir', recheck, recheck],
        ['upper-layer', recheck, recheck],
        ['lower-db', [], []],
        ['mount-table', [], []],
        ['lower-daemon', [], [{ kind: 'refresh-baseline' }]],
      ],
    );
  });

  it('watcher-down: one error line naming the target, why, and that its changes go unseen; a layer gets a hint', () => {
    const line = watcherHealthLogLine(down('lower-store-dir', 'vanished', 'ENOENT'));
    assert.equal(line.level, 'error');
    assert.equal(
      line.message,
      'watcher down: the lower store dir /srv/lower/nix/store is gone (deleted or moved away) (ENOENT); its changes go unseen until it is back',
    );
    assert.deepEqual(
      { ...line.fields, hint: typeof line.fields['hint'] },
      {
        event: 'watcher-down',
        watcher: 'lower-store-dir',
        target: '/srv/lower/nix/store',
        at: AT,
        reason: 'vanished',
        detail: 'ENOENT',
        hint: 'string',
      },
    );
    const replaced = watcherHealthLogLine(down('upper-layer', 'replaced'));
    assert.equal(replaced.message, 'watcher down: the upper layer /srv/upper/store was replaced by another directory; its changes go unseen until it is back');
    const table = watcherHealthLogLine(down('mount-table', 'unreadable', 'EACCES'));
    assert.equal(table.message, 'watcher down: the mount table /proc/self/mountinfo cannot be read (EACCES); its changes go unseen until it is back');
    assert.equal(table.fields['hint'], undefined);
    const daemon = watcherHealthLogLine(down('lower-daemon', 'unavailable', 'DAEMON_CONNECT_FAILED: connect ECONNREFUSED'));
    assert.equal(
      daemon.message,
      'watcher down: the lower nix-daemon at /run/snix/daemon.sock is unavailable (DAEMON_CONNECT_FAILED: connect ECONNREFUSED); its changes go unseen until it is back',
    );
    assert.match(String(daemon.fields['hint']), /reconnects with backoff/);
  });

  it('watcher-up: one info line saying since when it was down; the gap follows as drift', () => {
    assert.deepEqual(watcherHealthLogLine(up('lower-db')), {
      level: 'info',
      message: `watcher up: the lower DB's directory /srv/lower/nix/var/nix/db is watched again (down since ${SINCE}: vanished); what changed meanwhile follows as drift`,
      fields: { event: 'watcher-up', watcher: 'lower-db', target: '/srv/lower/nix/var/nix/db', at: AT, downSince: SINCE, reason: 'vanished' },
    });
    assert.match(watcherHealthLogLine(up('lower-daemon')).message, /^watcher up: the lower nix-daemon at \/run\/snix\/daemon.sock is answering again/);
  });
});
