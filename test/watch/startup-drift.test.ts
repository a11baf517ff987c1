import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BaselineError, baselineFileOf, captureLowerBaseline, loadBaseline, saveBaseline } from '../../agent/baseline/index.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import {
  layerWatcherOptionsOf,
  mountWatcherOptionsOf,
  startupDrift,
  type DriftEventOf,
  type DriftLayout,
  type StartupDriftResult,
} from '../../agent/watch/index.ts';
import { loadConfig } from '../../agent/config/index.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { runNix } from '../support/nix-kit.ts';

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const eventOf = <T extends StartupDriftResult['events'][number]['type']>(r: StartupDriftResult, type: T) =>
  r.events.find((e) => e.type === type) as DriftEventOf<T> | undefined;

describe('watch/startup-drift', function () {
  this.timeout(300_000);

  describe('on a demo store (its upper DB holds copied-up lower metadata with references)', () => {
    let tmp = '';
    let demo: DemoStore;
    let layout: DriftLayout;
    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-startup-'));
      demo = await buildDemoStore(path.join(tmp, 'demo'), { seed: 11, lowerPaths: 80, upperPaths: 30, duplicates: 4 });
      layout = {
        storeDir: demo.storeDir,
        upperLayer: demo.upper.layer,
        upperDb: demo.upper.db,
        lower: { realStoreDir: demo.lower.realStoreDir, db: demo.lower.db },
      };
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('a first run has nothing to compare: no events, and the current lower store as the baseline to save', async () => {
      const result = await startupDrift({ layout }, undefined);
      assert.equal(result.firstRun, true);
      assert.deepEqual(result.events, []);
      assert.equal(result.current.entries.count, demo.lower.paths.length);
      assert.equal(result.current.db?.validPaths?.count, demo.lower.paths.length);
    });

    it('reports removed lower paths with the upper-DB registrations and referrers they break, and added ones', async () => {
      const file = baselineFileOf(path.join(tmp, 'state'));
      saveBaseline(file, (await startupDrift({ layout }, undefined)).current);
      const inUpperDb = [...demo.upper.paths, ...demo.upper.copiedUp];
      const duplicates = new Set(demo.upper.duplicates);
      // Remove: two copied-up lower paths the upper layer does not hold, a duplicate (held by the upper layer), and
      // a lower path the upper DB does not know.
      const copiedOnly = demo.upper.copiedUp.filter((p) => !duplicates.has(p));
      const unknown = demo.lower.paths.filter((p) => !demo.upper.copiedUp.includes(p));
      const removed = [copiedOnly[0]!, copiedOnly[1]!, demo.upper.duplicates[0]!, unknown[0]!];
      for (const p of removed) fs.rmSync(path.join(demo.lower.realStoreDir, path.basename(p)), { recursive: true });
      const addedName = `${'z'.repeat(32)}-arrived-later`;
      fs.mkdirSync(path.join(demo.lower.realStoreDir, addedName));

      const result = await startupDrift({ layout }, loadBaseline(file, layout.lower.realStoreDir));
      assert.equal(result.firstRun, false);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(eventOf(result, 'lower-grew')?.paths, [`${demo.storeDir}/${addedName}`]);
      const shrank = eventOf(result, 'lower-shrank');
      assert.deepEqual(shrank?.paths, [...removed].sort());
      assert.equal(shrank?.source, 'startup');
      // Expected from the builder's own reference lists: the upper-DB paths whose references include each vanished path.
      const expected = removed
        .filter((p) => demo.upper.copiedUp.includes(p) && !duplicates.has(p))
        .sort()
        .map((p) => ({ path: p, registeredInUpper: true, referrers: inUpperDb.filter((r) => r !== p && demo.references(r)?.includes(p)).sort() }));
      assert.deepEqual(shrank?.brokenUpperClosures, expected);
      assert.ok(
        expected.some((c) => c.referrers.length > 0),
        'the fixture exercises referrers',
      );
      assert.equal(eventOf(result, 'lower-db-modified') ?? eventOf(result, 'lower-db-replaced'), undefined, 'the lower DB was not touched');
    });

    it('reports the upper DB unreadable apart, with closures unknown (null), and still diffs', async () => {
      const before = await captureLowerBaseline(layout.lower);
      const copied = new Set(demo.upper.copiedUp.map((p) => path.basename(p)));
      const victim = fs.readdirSync(layout.lower.realStoreDir).find((n) => copied.has(n) && !fs.existsSync(path.join(layout.upperLayer, n)))!;
      fs.rmSync(path.join(layout.lower.realStoreDir, victim), { recursive: true });
      const result = await startupDrift({ layout: { ...layout, upperDb: path.join(tmp, 'no-such', 'db.sqlite') } }, before);
      assert.equal(eventOf(result, 'lower-shrank')?.brokenUpperClosures, null);
      assert.deepEqual(
        result.errors.map((e) => e.code),
        ['WATCH_UPPER_DB_UNREADABLE'],
      );
    });

    it('takes a loaded Config as it is (its layout), as do the watcher option helpers', async () => {
      const config = loadConfig({ flags: { store: demo.storeUrl, stateDir: path.join(tmp, 'config-state') }, env: {} });
      assert.equal(config.layout.lower.realStoreDir, demo.lower.realStoreDir);
      const result = await startupDrift(config, undefined);
      assert.equal(result.current.realStoreDir, demo.lower.realStoreDir);
      const options = layerWatcherOptionsOf(config, result.current);
      assert.deepEqual(
        [options.lowerStoreDir, options.upperLayer, options.upperDb, options.lowerDb, options.debounceMs],
        [demo.lower.realStoreDir, demo.upper.layer, demo.upper.db, demo.lower.db, config.watch.debounceMs],
      );
      assert.deepEqual(mountWatcherOptionsOf(config), { mountinfo: config.mountinfo, mergedStoreDir: demo.mergedStoreDir, pollMs: config.watch.mountPollMs });
    });

    it('after a corrupt baseline the agent starts afresh: loading fails with a typed error, a first run follows', async () => {
      const file = path.join(tmp, 'corrupt.bin');
      fs.writeFileSync(file, 'garbage');
      assert.throws(
        () => loadBaseline(file),
        (e: unknown) => e instanceof BaselineError && e.code === 'BASELINE_CORRUPT',
      );
      assert.equal((await startupDrift({ layout }, undefined)).firstRun, true);
    });
  });

  describe('on real Nix 2.8 stores: the lower store garbage-collected and grown while the agent was down', () => {
    let f: NixOverlayFixture;
    let layout: DriftLayout;
    let result: StartupDriftResult;
    let vanished: string[];
    let added = '';

    before(async function () {
      requireNixOverlayFixture(this);
      f = createNixOverlayFixture();
      layout = {
        storeDir: '/nix/store',
        upperLayer: f.upperLayer,
        upperDb: path.join(f.mergedRoot, 'nix/var/nix/db/db.sqlite'),
        lower: { realStoreDir: f.lowerStoreDir, db: path.join(f.lowerRoot, 'nix/var/nix/db/db.sqlite') },
      };
      const p = parseAssignments(
        f.unmounted(`
          drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
          echo drv=$drv
          echo out=$(nix-store --store "$A" --realise "$drv" 2>/dev/null)
        `),
      );
      f.mounted(`${COPY_UP}
        copy_up ${p['drv']} ${p['out']}
        nix-build --store "$B" "$EXPR" --no-out-link --arg seed 2 >/dev/null 2>&1
      `);
      const baseline = await captureLowerBaseline(layout.lower);
      const lowerBefore = new Set(fs.readdirSync(f.lowerStoreDir));
      f.unmounted('nix-store --store "$A" --gc >/dev/null 2>&1');
      fs.writeFileSync(path.join(f.dir, 'late.txt'), 'late\n');
      added = runNix('nix-store', ['--store', f.lowerRoot, '--add', path.join(f.dir, 'late.txt')]).trim();
      const lowerAfter = new Set(fs.readdirSync(f.lowerStoreDir));
      vanished = [...lowerBefore]
        .filter((n) => !lowerAfter.has(n) && !n.startsWith('.'))
        .map((n) => `/nix/store/${n}`)
        .sort();
      assert.ok(vanished.length > 0);
      result = await startupDrift({ layout }, baseline);
    });
    after(() => f?.remove());

    it('lists exactly the lower paths the GC deleted, and the one added', () => {
      assert.deepEqual(eventOf(result, 'lower-shrank')?.paths, vanished);
      assert.deepEqual(eventOf(result, 'lower-grew')?.paths, [added]);
    });

    it('names, for each vanished path the upper DB registers, its referrers there as Nix 2.8 reports them', () => {
      const broken = eventOf(result, 'lower-shrank')?.brokenUpperClosures;
      assert.ok(broken !== null && broken !== undefined && broken.length > 0);
      const registered = new Set(
        lines(f.mounted(`for v in ${vanished.join(' ')}; do nix-store --store "$B" -q --hash $v >/dev/null 2>&1 && echo $v || true; done`)),
      );
      for (const closure of broken) {
        assert.equal(closure.registeredInUpper, true);
        const referrers = lines(f.mounted(`nix-store --store "$B" -q --referrers ${closure.path}`)).filter((r) => r !== closure.path);
        assert.deepEqual(closure.referrers, referrers.sort(), `referrers of ${closure.path}`);
      }
      for (const path of vanished) {
        const heldByUpper = fs.existsSync(`${f.upperLayer}/${path.slice('/nix/store/'.length)}`);
        const expected = registered.has(path) && !heldByUpper;
        assert.equal(
          broken.some((c) => c.path === path),
          expected,
          `${path}: listed iff the upper DB registers it and the upper layer lacks it`,
        );
      }
      assert.ok(
        broken.some((c) => c.referrers.length > 0),
        'the upper build references vanished lower paths',
      );
    });

    it('sees the lower DB changed in place (the GC and the add rewrote it)', () => {
      const db = eventOf(result, 'lower-db-modified');
      assert.ok(db !== undefined, JSON.stringify(result.events.map((e) => e.type)));
      assert.ok(db.after.validPaths !== null && db.before.validPaths !== null);
      assert.equal(db.after.validPaths.count, 1);
      assert.ok(db.before.validPaths.count > 1);
    });
  });
});
