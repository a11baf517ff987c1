/**
 * The layer watcher when a layer directory goes away and comes back: `watcher-down`, `watcher-up`, what changed in
 * the gap as ordinary drift events, and changes after it seen again. Real directories (store path names only, no
 * DB), real inotify watches; every step waits for the event it expects.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureLowerBaseline } from '../../agent/baseline/index.ts';
import { LayerWatcher, type DriftEvent, type WatcherHealthEvent } from '../../agent/watch/index.ts';
import { waitFor } from '../support/wait-for.ts';

const STORE = '/nix/store';
const name = (c: string, what: string): string => `${c.repeat(32)}-${what}`;
const A = name('a', 'kept-a');
const B = name('b', 'kept-b');
const GAP = name('c', 'added-in-the-gap');
const LATER = name('d', 'added-later');

describe('watch/layer-watcher: a layer directory lost and back', () => {
  let dir = '';
  let lower = '';
  let upper = '';
  let watcher: LayerWatcher | undefined;
  const drift: DriftEvent[] = [];
  const health: WatcherHealthEvent[] = [];
  const seen = (): string => `health ${JSON.stringify(health)}\ndrift ${JSON.stringify(drift)}`;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-comeback-'));
    lower = path.join(dir, 'lower', 'store');
    upper = path.join(dir, 'upper');
    for (const d of [path.join(lower, A), path.join(lower, B), upper]) fs.mkdirSync(d, { recursive: true });
    drift.length = 0;
    health.length = 0;
    watcher = new LayerWatcher({
      storeDir: STORE,
      lowerStoreDir: lower,
      lowerDb: undefined,
      upperLayer: upper,
      upperDb: path.join(dir, 'upper-db.sqlite'),
      debounceMs: 20,
      dirCheckMs: 20,
      baseline: await captureLowerBaseline({ realStoreDir: lower, db: undefined }),
      closures: { brokenClosures: () => [] },
      persistent: false,
    });
    watcher.on('drift', (e) => drift.push(e)).on('health', (e) => health.push(e));
    await watcher.start();
  });
  afterEach(async () => {
    await watcher?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const healthEvent = (type: WatcherHealthEvent['type'], watched: WatcherHealthEvent['watcher']): Promise<WatcherHealthEvent> =>
    waitFor(() => health.find((e) => e.type === type && e.watcher === watched), `${type} of ${watched}`, { describe: seen });
  const grewBy = (storePath: string, from: number): Promise<DriftEvent> =>
    waitFor(() => drift.slice(from).find((e) => e.type === 'lower-grew' && e.paths.includes(storePath)), `lower-grew of ${storePath}`, { describe: seen });

  it('the lower store dir removed (rm -rf), restored with one more path: down, up, the gap as lower-grew, a later path seen', async () => {
    // The copy is made beside it, then moved into place whole: what the gap ends with is exactly A, B and GAP.
    const staging = `${lower}.restore`;
    fs.cpSync(lower, staging, { recursive: true });
    fs.mkdirSync(path.join(staging, GAP));
    fs.rmSync(lower, { recursive: true });
    const down = await healthEvent('watcher-down', 'lower-store-dir');
    assert.deepEqual([down.target, down.type === 'watcher-down' && down.reason], [lower, 'vanished']);
    assert.deepEqual(
      watcher!.health().map((h) => [h.watcher, h.state]),
      [
        ['lower-store-dir', 'down'],
        ['upper-layer', 'up'],
      ],
    );
    const beforeUp = drift.length;
    fs.renameSync(staging, lower);
    await healthEvent('watcher-up', 'lower-store-dir');
    await grewBy(`${STORE}/${GAP}`, beforeUp);
    // Whatever the removal reported before the watch went down, A and B came back, and nothing says GAP shrank.
    await waitFor(() => [...watcher!.currentBaseline().entries.names()].sort().join() === [A, B, GAP].sort().join(), 'A, B and GAP known', { describe: seen });
    assert.ok(!drift.some((e) => e.type === 'lower-shrank' && e.paths.includes(`${STORE}/${GAP}`)), seen());

    const beforeLater = drift.length;
    fs.mkdirSync(path.join(lower, LATER));
    await grewBy(`${STORE}/${LATER}`, beforeLater);
    assert.equal(watcher!.health()[0]!.state, 'up');
  });

  it('the upper layer moved away and back: down, up, what was added meanwhile as upper-path-added, a later path seen', async () => {
    fs.renameSync(upper, `${upper}.away`);
    const down = await healthEvent('watcher-down', 'upper-layer');
    assert.equal(down.type === 'watcher-down' && down.reason, 'vanished');
    fs.mkdirSync(path.join(`${upper}.away`, GAP));
    const beforeUp = drift.length;
    fs.renameSync(`${upper}.away`, upper);
    const up = await healthEvent('watcher-up', 'upper-layer');
    assert.equal(up.type === 'watcher-up' && up.downSince, down.at);
    const added = (p: string, from: number): Promise<DriftEvent> =>
      waitFor(() => drift.slice(from).find((e) => e.type === 'upper-path-added' && e.path === p), `upper-path-added of ${p}`, { describe: seen });
    await added(`${STORE}/${GAP}`, beforeUp);
    const beforeLater = drift.length;
    fs.mkdirSync(path.join(upper, LATER));
    await added(`${STORE}/${LATER}`, beforeLater);
  });
});
