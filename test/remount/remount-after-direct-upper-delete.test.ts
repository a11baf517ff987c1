import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRemountHook, remountNeededPath, Remounter, type RemountEvent } from '../../agent/remount/index.ts';
import { requireMountNamespaces } from '../support/requirements.ts';
import { createStaleOverlay, type StaleOverlay } from '../support/stale-overlay.ts';

// Nix's "delete duplicate" scenario: the upper copy of a path the lower also holds is deleted directly, the merged
// view goes stale, the watcher flags it, and the Remounter runs the real hooks/remount and checks the view after.
describe('remount after a direct upper delete', function () {
  let dir = '';
  let overlay: StaleOverlay | undefined;
  let remounter: Remounter | undefined;
  before(async function () {
    requireMountNamespaces(this);
    dir = mkdtempSync(join(tmpdir(), 'ow-direct-delete-'));
    overlay = await createStaleOverlay(dir);
  });
  after(async () => {
    await remounter?.close();
    await overlay?.ns.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('remounts with the default hook, verifies the lower copy is served, and clears the flag', async () => {
    const o = overlay!;
    assert.equal(o.served(), 'upper');
    const events: RemountEvent['type'][] = [];
    remounter = new Remounter({
      mergedStoreDir: o.merged,
      stateDir: join(dir, 'state'),
      // The default command (hooks/remount), entered into the overlay's mount namespace.
      settings: { command: [...o.ns.nsenter, defaultRemountHook()], timeoutSeconds: 30, attempts: 2, backoffSeconds: 0.1, coalesceMs: 100 },
      verifyAfterRemount: async () => ({ fresh: o.served() === 'lower', findings: [] }),
    });
    remounter.on('event', (e) => events.push(e.type));
    const outcome = await remounter.request({ source: 'watcher', storePath: 'p', upperPath: join(dir, 'u/p'), lowerPath: join(dir, 'l/p') });
    assert.equal(outcome.status, 'remounted', JSON.stringify(outcome.error));
    assert.equal(outcome.fresh, true);
    assert.match(outcome.lastAttempt?.stdout.text ?? '', /remounted/);
    assert.equal(o.served(), 'lower');
    assert.equal(existsSync(remountNeededPath(join(dir, 'state'))), false);
    assert.deepEqual(events, ['remount-requested', 'remount-started', 'remount-succeeded', 'remount-verified']);
  });
});
