import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MountWatcher, type DriftEvent, type WatchError, type WatcherHealthEvent } from '../../agent/watch/index.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireMountNamespaces } from '../support/requirements.ts';

const ROOT = '22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n';
const NOW = new Date('2025-03-01T12:00:00.000Z');
const AT = NOW.toISOString();
const OVERLAY = '65 22 0:39 / /m/merged rw,relatime - overlay overlay rw,lowerdir=/m/lower,upperdir=/m/upper,workdir=/m/work\n';

describe('watch/mount-watcher', () => {
  it('reports changes between polls of an injected mount table, nothing for the first view', async () => {
    let text = ROOT + OVERLAY;
    const events: DriftEvent[] = [];
    const watcher = new MountWatcher({ mountinfo: '/fixture', mergedStoreDir: '/m/merged', pollMs: 600_000, persistent: false, readText: async () => text });
    watcher.on('drift', (e) => events.push(e));
    await watcher.start();
    assert.equal(watcher.view?.overlay?.mountId, 65);
    assert.equal(events.length, 0);
    text = ROOT;
    await watcher.poll();
    text = ROOT + OVERLAY.replace('65 22', '80 22');
    await watcher.poll();
    await watcher.close();
    assert.deepEqual(
      events.map((e) => e.type === 'mount-changed' && [e.what, e.before.overlay?.mountId ?? null, e.after.overlay?.mountId ?? null]),
      [
        ['unmounted', 65, null],
        ['mounted', null, 80],
      ],
    );
    assert.ok(events.every((e) => e.source === 'watch'));
  });

  it('an unreadable mount table is watcher-down once per failure streak, watcher-up once it reads again; no error', async () => {
    let fail = true;
    const health: WatcherHealthEvent[] = [];
    const errors: WatchError[] = [];
    const watcher = new MountWatcher({
      mountinfo: '/proc/gone/mountinfo',
      mergedStoreDir: '/m/merged',
      pollMs: 600_000,
      persistent: false,
      now: () => NOW,
      readText: async () => {
        if (fail) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
        return ROOT + OVERLAY;
      },
    });
    watcher.on('health', (e) => health.push(e)).on('error', (e) => errors.push(e));
    await watcher.start();
    await watcher.poll();
    assert.deepEqual(watcher.health, {
      watcher: 'mount-table',
      target: '/proc/gone/mountinfo',
      state: 'down',
      since: AT,
      reason: 'unreadable',
      detail: 'ENOENT',
    });
    fail = false;
    await watcher.poll();
    assert.equal(watcher.health.state, 'up');
    fail = true;
    await watcher.poll();
    await watcher.close();
    const down = { type: 'watcher-down', watcher: 'mount-table', target: '/proc/gone/mountinfo', at: AT, reason: 'unreadable', detail: 'ENOENT' };
    assert.deepEqual(health, [
      down,
      { type: 'watcher-up', watcher: 'mount-table', target: '/proc/gone/mountinfo', at: AT, downSince: AT, reason: 'unreadable' },
      down,
    ]);
    assert.deepEqual(errors, []);
  });

  it('a table that reads from the start is up; a read failing without an errno is down with its message', async () => {
    let fail = false;
    const readText = async (): Promise<string> => (fail ? Promise.reject(new Error('boom')) : ROOT + OVERLAY);
    const watcher = new MountWatcher({ mountinfo: '/x', mergedStoreDir: '/m/merged', pollMs: 600_000, persistent: false, now: () => NOW, readText });
    assert.equal(watcher.health.state, 'starting');
    await watcher.start();
    assert.deepEqual(watcher.health, { watcher: 'mount-table', target: '/x', state: 'up', since: AT });
    fail = true;
    await watcher.poll();
    await watcher.close();
    assert.deepEqual(watcher.health, { watcher: 'mount-table', target: '/x', state: 'down', since: AT, reason: 'unreadable', detail: 'boom' });
  });

  describe('on the real mount table (private mount namespace)', () => {
    let dir = '';
    before(function () {
      requireMountNamespaces(this);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-mountwatch-'));
    });
    after(() => dir !== '' && fs.rmSync(dir, { recursive: true, force: true }));

    it('sees a remount with other options, a mount stacked on top and removed, an unmount and a new mount', () => {
      const child = path.join(import.meta.dirname, 'fixtures', 'mount-watch-child.ts');
      const run = runInFreshNamespace([process.execPath, child, dir]);
      assert.equal(run.status, 0, run.stderr);
      const result = JSON.parse(run.stdout) as { seen: { step: string; what: string[] }[]; lastAfterOverlay: string };
      assert.deepEqual(result.seen, [
        { step: 'remount read-only', what: ['options-changed'] },
        { step: 'stack a tmpfs', what: ['stacked'] },
        { step: 'unmount the tmpfs', what: ['unstacked'] },
        { step: 'unmount the overlay', what: ['unmounted'] },
        { step: 'mount it again', what: ['mounted'] },
      ]);
      assert.equal(result.lastAfterOverlay, 'overlay');
    });
  });
});
