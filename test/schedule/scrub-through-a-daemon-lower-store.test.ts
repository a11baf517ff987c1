/**
 * The scheduler's scrub of both layers with the lower store's metadata served by a real Nix 2.8 nix-daemon (a demo
 * store's lower root; the URL names only the daemon socket and the lower layer, so there is no DB file to read):
 * each chunk asks the daemon for its rows alone, the pass covers every path of both DBs, and a tampered lower
 * object is found.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScheduleSettings } from '../../agent/config/index.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import type { Logger } from '../../agent/log/index.ts';
import { loadScrubState, Scheduler, ScrubChunkSource, scrubStateFileOf, type ScrubPass } from '../../agent/schedule/index.ts';
import { parseStoreUrl, resolveStoreLayout, type StoreLayout } from '../../agent/store/index.ts';
import { startNixDaemon, type RunningNixDaemon } from '../support/nix-daemon.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';
import { withSafetyNet } from '../support/wait-for.ts';
import { ScheduleHost } from '../support/schedule-host.ts';

const SETTINGS: ScheduleSettings = {
  audit: { afterDrift: 'off', maxDelay: 300_000, every: 'off' },
  scrub: { every: 1000, maxReadMBps: 'off', threads: 2, layers: 'both' },
};

const quietLogger: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

describe('scheduled scrub of both layers through a daemon lower store', function () {
  this.timeout(120_000);
  let dir: string;
  let store: DemoStore;
  let daemon: RunningNixDaemon;
  let layout: StoreLayout;

  before(async function () {
    requireRoot(this);
    requireCommand(this, 'nix-daemon');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-scrub-daemon-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 30, upperPaths: 25, duplicates: 4 });
    daemon = await startNixDaemon(store.lower.root, dir);
    const lowerStore = `unix://${daemon.socket}?real=${store.lower.realStoreDir}`;
    layout = resolveStoreLayout(parseStoreUrl(store.storeUrl.replace(/lower-store=[^&]*/, `lower-store=${encodeURIComponent(lowerStore)}`)));
    assert.equal(layout.lower.db, undefined);
    assert.equal(layout.lower.daemonSocket, daemon.socket);
  });
  after(async () => {
    await daemon?.kill();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('covers every path of both DBs in chunks and finds the tampered lower object (store.corrupt)', async () => {
    const victim = store.lower.paths.find((p) => fs.lstatSync(path.join(store.lower.realStoreDir, path.basename(p))).isFile());
    assert.ok(victim !== undefined, 'the lower layer has a regular file object');
    const file = path.join(store.lower.realStoreDir, path.basename(victim));
    fs.chmodSync(file, 0o644);
    fs.appendFileSync(file, 'tampered\n');
    const stateDir = path.join(dir, 'state');
    fs.mkdirSync(stateDir, { mode: 0o700 });
    const host = new ScheduleHost();
    const chunks: number[] = [];
    const scheduler = new Scheduler({
      host,
      layout,
      stateDir,
      settings: SETTINGS,
      logger: quietLogger,
      observer: { pathsVerified: (n) => chunks.push(n) },
      chunkLimits: { paths: 7, bytes: 2 ** 40 },
    });
    const done = host.nextFindings('scrub');
    scheduler.start();
    let event;
    try {
      event = await withSafetyNet(done, 'the pass to complete');
    } finally {
      await scheduler.close();
    }
    const upperRegistrations = store.upper.paths.length + store.upper.copiedUp.length;
    const total = upperRegistrations + store.lower.paths.length;
    assert.equal(loadScrubState(scrubStateFileOf(stateDir))?.lastCompleted?.paths, total);
    assert.equal(
      chunks.reduce((a, b) => a + b, 0),
      total,
    );
    assert.ok(
      chunks.every((n) => n <= 7),
      `chunks of at most 7 paths: ${chunks.join(', ')}`,
    );
    const corrupt = event.findings.filter((f) => f.id === 'store.corrupt').map((f) => f.evidence['path']);
    assert.ok(corrupt.includes(victim), `${victim} in ${corrupt.join(', ')}`);
  });

  it("chunks read in windows of a few chunks each cover the daemon's paths once, in order, across the window ends", async () => {
    const source = new ScrubChunkSource(layout, { paths: 3, bytes: 2 ** 40 }, 2);
    const signal = new AbortController().signal;
    let pass: ScrubPass = {
      startedAt: '2026-01-01T00:00:00.000Z',
      layers: 'both',
      layer: 'lower',
      afterId: 0,
      pathsDone: 0,
      pathsTotal: 0,
      bytes: 0,
      activeMs: 0,
      findings: [],
      findingsDropped: 0,
    };
    const seen: string[] = [];
    try {
      for (let chunk = await source.next(pass, signal); chunk !== undefined; chunk = await source.next(pass, signal)) {
        assert.ok(chunk.paths.length <= 3 && chunk.lastId > pass.afterId);
        seen.push(...chunk.paths);
        pass = { ...pass, afterId: chunk.lastId };
      }
    } finally {
      source.close();
    }
    assert.deepEqual(seen, [...store.lower.paths].sort());
  });
});
