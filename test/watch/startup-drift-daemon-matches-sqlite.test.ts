/**
 * Drift detection gives the same answer whether the lower store's metadata comes from its SQLite DB or through its
 * nix-daemon: the same store, changed by real Nix 2.8 while the "agent" was down, diffed both ways.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LowerBaseline } from '../../agent/baseline/index.ts';
import { startupDrift, type DriftEvent, type DriftLayout, type UpperClosureLookup } from '../../agent/watch/index.ts';
import { startNixDaemon, type RunningNixDaemon } from '../support/nix-daemon.ts';
import { buildNixFixtureStore, type NixFixtureStore } from '../support/nix-fixture-store.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

describe('start-up drift through a daemon lower store matches drift through its DB (real Nix 2.8)', function () {
  this.timeout(120_000);
  let dir: string;
  let store: NixFixtureStore;
  let daemon: RunningNixDaemon | undefined;
  let throughDb: DriftLayout;
  let throughDaemon: DriftLayout;
  // No upper DB here: which upper closures a vanished path breaks is the same lookup either way.
  const closures: UpperClosureLookup = { brokenClosures: () => [] };

  before(async function () {
    requireRoot(this);
    requireCommand(this, 'nix-store');
    requireCommand(this, 'nix-daemon');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-drift-daemon-'));
    const root = path.join(dir, 'lower');
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    store = buildNixFixtureStore(root, work);
    daemon = await startNixDaemon(root, dir);
    const common = { storeDir: '/nix/store', upperLayer: path.join(dir, 'upper'), upperDb: path.join(dir, 'state', 'db', 'db.sqlite') };
    const realStoreDir = path.join(root, 'nix', 'store');
    throughDb = { ...common, lower: { realStoreDir, db: path.join(root, 'nix', 'var', 'nix', 'db', 'db.sqlite'), storeDir: '/nix/store' } };
    throughDaemon = { ...common, lower: { realStoreDir, db: undefined, daemonSocket: daemon.socket, storeDir: '/nix/store' } };
  });

  after(async () => {
    await daemon?.kill();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports the same paths added and removed, the metadata change as the DB or the daemon one, and the daemon counts what the DB holds', async () => {
    const first = async (layout: DriftLayout): Promise<LowerBaseline> => {
      const result = await startupDrift({ layout }, undefined, { closures });
      assert.equal(result.firstRun, true);
      assert.deepEqual(result.errors, []);
      return result.current;
    };
    const dbBaseline = await first(throughDb);
    const daemonBaseline = await first(throughDaemon);
    assert.ok(daemonBaseline.daemon !== null && daemonBaseline.daemon !== undefined, 'the daemon identity is in the baseline');
    assert.equal(daemonBaseline.daemon.validPaths, dbBaseline.db?.validPaths?.count);

    // While "the agent is down": real Nix adds a path to the lower store and deletes one nothing references.
    const src = path.join(dir, 'work', 'new');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'file'), 'added while the agent was down\n');
    const added = runNix('nix-store', ['--store', path.join(dir, 'lower'), '--add', src]).trim();
    runNix('nix-store', ['--store', path.join(dir, 'lower'), '--delete', store.added]);

    const dbDrift = await startupDrift({ layout: throughDb }, dbBaseline, { closures });
    const daemonDrift = await startupDrift({ layout: throughDaemon }, daemonBaseline, { closures });
    assert.deepEqual(daemonDrift.errors, []);
    const paths = (events: readonly DriftEvent[]): unknown[] =>
      events.filter((e) => e.type === 'lower-grew' || e.type === 'lower-shrank').map((e) => ({ type: e.type, paths: 'paths' in e ? e.paths : [] }));
    assert.deepEqual(paths(daemonDrift.events), paths(dbDrift.events));
    assert.deepEqual(paths(dbDrift.events), [
      { type: 'lower-grew', paths: [added] },
      { type: 'lower-shrank', paths: [store.added] },
    ]);
    const kinds = (events: readonly DriftEvent[]): string[] => events.map((e) => e.type).filter((t) => t !== 'lower-grew' && t !== 'lower-shrank');
    assert.deepEqual(kinds(dbDrift.events), ['lower-db-modified']);
    assert.deepEqual(kinds(daemonDrift.events), ['lower-daemon-modified']);
    assert.equal(daemonDrift.current.daemon?.validPaths, dbDrift.current.db?.validPaths?.count);
  });
});
