/**
 * The scheduler's scrub on real store layers and Nix DBs (a demo store: lower and upper layers, both DBs; verify
 * judges from the layers, so no mount is needed): it finds a tampered upper copy and says so in a findings event;
 * stopped mid-pass it keeps its cursor and a new scheduler resumes after it; its reads keep to the budget, as an
 * injected clock measures.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ScheduleSettings } from '../../agent/config/index.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import type { Logger } from '../../agent/log/index.ts';
import { loadScrubState, Scheduler, scrubStateFileOf, type Clock, type ScheduleObserver } from '../../agent/schedule/index.ts';
import { openNixDb, type StoreLayout } from '../../agent/store/index.ts';
import { resolveStoreLayout } from '../../agent/store/resolve-store-layout.ts';
import { parseStoreUrl } from '../../agent/store/store-url.ts';
import { waitFor, withSafetyNet } from '../support/wait-for.ts';
import { ScheduleHost } from '../support/schedule-host.ts';

/** Scheduled audits off, a scrub of the upper DB due one second after the first start, no read limit. */
const SETTINGS: ScheduleSettings = {
  audit: { afterDrift: 'off', maxDelay: 300_000, every: 'off' },
  scrub: { every: 1000, maxReadMBps: 'off', threads: 2, layers: 'upper' },
};

/** A logger that keeps its lines (the scheduler's log is part of what it does). */
function memoryLogger(): Logger & { lines: Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }> } {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }> = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void =>
      void lines.push({ level, message, fields });
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** Sum of the NAR sizes the upper DB records. */
function upperNarBytes(layout: StoreLayout): { paths: number; bytes: number } {
  const db = openNixDb(layout.upperDb, { storeDir: layout.storeDir });
  try {
    let bytes = 0;
    let paths = 0;
    for (const row of db.iterateValidPaths()) {
      bytes += row.narSize;
      paths++;
    }
    return { paths, bytes };
  } finally {
    db.close();
  }
}

describe('scheduled scrub on a demo store', function () {
  this.timeout(120_000);
  let dir: string;
  let store: DemoStore;
  let layout: StoreLayout;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-scrub-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 30, upperPaths: 25, duplicates: 4 });
    layout = resolveStoreLayout(parseStoreUrl(store.storeUrl));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const stateDirOf = (name: string): string => {
    const stateDir = path.join(dir, name);
    fs.mkdirSync(stateDir, { mode: 0o700 });
    return stateDir;
  };

  it('stopped mid-pass, it keeps the cursor after the last whole chunk; a new scheduler resumes there and completes the pass', async () => {
    const stateDir = stateDirOf('resume');
    const total = upperNarBytes(layout).paths;
    const verified: number[] = [];
    let first!: Scheduler;
    let stopped!: Promise<void>;
    const stopAfterOneChunk: ScheduleObserver = {
      pathsVerified: (n) => {
        verified.push(n);
        stopped = first.close();
      },
    };
    first = new Scheduler({
      host: new ScheduleHost(),
      layout,
      stateDir,
      settings: SETTINGS,
      logger: memoryLogger(),
      observer: stopAfterOneChunk,
      chunkLimits: { paths: 7, bytes: 2 ** 40 },
    });
    first.start();
    await waitFor(() => verified.length > 0, 'the first chunk');
    await withSafetyNet(stopped, 'the first scheduler to stop after one chunk');
    assert.deepEqual(verified, [7]);
    const saved = loadScrubState(scrubStateFileOf(stateDir))!;
    assert.equal(saved.pass?.pathsDone, 7);
    assert.equal(saved.pass?.pathsTotal, total);
    assert.ok(saved.pass.afterId > 0);

    const host = new ScheduleHost();
    const logger = memoryLogger();
    const after: number[] = [];
    const second = new Scheduler({
      host,
      layout,
      stateDir,
      settings: SETTINGS,
      logger,
      observer: { pathsVerified: (n) => after.push(n) },
      chunkLimits: { paths: 7, bytes: 2 ** 40 },
    });
    const done = host.nextFindings('scrub');
    second.start();
    try {
      const event = await withSafetyNet(done, 'the resumed pass to complete');
      assert.deepEqual(event.findings, [], 'the demo store is sound');
    } finally {
      await second.close();
    }
    assert.equal(
      after.reduce((a, b) => a + b, 0),
      total - 7,
      'the second scheduler verified only the paths after the cursor',
    );
    assert.ok(logger.lines.some((l) => l.fields?.['schedule'] === 'scrub-resumed' && l.fields['pathsDone'] === 7));
    const state = loadScrubState(scrubStateFileOf(stateDir))!;
    assert.equal(state.pass, undefined);
    assert.equal(state.lastCompleted?.paths, total);
    assert.equal(second.status().scrub.lastCompleted?.paths, total);
    assert.deepEqual(second.status().pool, { threads: 0, busy: 0, queued: 0 }, 'no threads are kept between passes');
  });

  it('keeps to the read budget: with an injected clock, the time it waited is exactly what the NAR bytes it read call for', async () => {
    const stateDir = stateDirOf('budget');
    const base = Date.now();
    // Time moves only when the scheduler sleeps (for the budget or until work is due).
    const clock: Clock & { t: number } = {
      t: 0,
      now: () => clock.t,
      sleep: async (ms, signal) => {
        signal.throwIfAborted();
        clock.t += ms;
        await yieldToEventLoop();
        signal.throwIfAborted();
      },
    };
    const host = new ScheduleHost();
    const bytesPerSecond = 2000;
    const scheduler = new Scheduler({
      host,
      layout,
      stateDir,
      settings: { ...SETTINGS, scrub: { ...SETTINGS.scrub, maxReadMBps: bytesPerSecond / 1e6 } },
      logger: memoryLogger(),
      clock,
      wallClock: () => new Date(base + clock.t),
      chunkLimits: { paths: 3, bytes: 2 ** 40 },
    });
    const done = host.nextFindings('scrub');
    scheduler.start();
    let status;
    try {
      await withSafetyNet(done, 'the pass to complete');
      status = scheduler.status();
    } finally {
      await scheduler.close();
    }
    const { bytes } = upperNarBytes(layout);
    assert.ok(bytes > 4 * bytesPerSecond, `the store is big enough for the budget to matter (${bytes} bytes)`);
    // Hashing takes no time on this clock: every byte past the first second's burst was waited for, at the rate.
    assert.equal(status.scrub.budget.grantedBytes, bytes);
    assert.equal(status.scrub.budget.waitedMs, Math.round(((bytes - bytesPerSecond) * 1000) / bytesPerSecond));
    assert.equal(status.scrub.lastCompleted?.bytes, bytes, 'what verify hashed is what the budget granted');
  });

  it('finds a tampered upper copy: the pass ends with a findings event naming it (store.corrupt)', async () => {
    const stateDir = stateDirOf('tampered');
    const victim = store.upper.paths.find((p) => fs.lstatSync(path.join(store.upper.layer, path.basename(p))).isFile());
    assert.ok(victim !== undefined, 'the upper layer has a regular file object');
    const file = path.join(store.upper.layer, path.basename(victim));
    fs.chmodSync(file, 0o644);
    fs.appendFileSync(file, 'tampered\n');
    const host = new ScheduleHost();
    const logger = memoryLogger();
    const scheduler = new Scheduler({ host, layout, stateDir, settings: SETTINGS, logger, chunkLimits: { paths: 10, bytes: 2 ** 40 } });
    const done = host.nextFindings('scrub');
    scheduler.start();
    let event;
    try {
      event = await withSafetyNet(done, 'the pass to complete', { describe: () => JSON.stringify(logger.lines) });
    } finally {
      await scheduler.close();
    }
    const corrupt = event.findings.filter((f) => f.id === 'store.corrupt');
    assert.deepEqual(
      corrupt.map((f) => f.evidence['path']),
      [victim],
    );
    assert.equal(corrupt[0]!.severity, 'error');
    const line = logger.lines.find((l) => l.fields?.['schedule'] === 'scrub-done');
    assert.equal(line?.level, 'warn');
    assert.deepEqual(line?.fields?.['ids'], ['store.corrupt']);
    assert.equal(loadScrubState(scrubStateFileOf(stateDir))?.lastCompleted?.findings, 1);
  });

  it('a pass that cannot start (the lower DB gone) is retried after retryMs, not in a loop; the error is in status', async () => {
    const stateDir = stateDirOf('retry');
    const broken = resolveStoreLayout(
      parseStoreUrl(store.storeUrl.replace(encodeURIComponent(store.lower.root), encodeURIComponent(path.join(dir, 'nowhere')))),
    );
    assert.notEqual(broken.lower.db, layout.lower.db);
    const logger = memoryLogger();
    const scheduler = new Scheduler({ host: new ScheduleHost(), layout: broken, stateDir, settings: SETTINGS, logger, retryMs: 3_600_000 });
    scheduler.start();
    try {
      const status = await waitFor(() => {
        const now = scheduler.status();
        return now.scrub.state === 'retrying' ? now : undefined;
      }, 'the scrub to fail and wait for its retry');
      assert.match(status.scrub.lastError ?? '', /DB/);
      assert.equal(status.scrub.pass, undefined);
      // Time for a loop to show itself: one error line, not one per turn.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(logger.lines.filter((l) => l.level === 'error').length, 1, JSON.stringify(logger.lines));
      assert.equal(scheduler.status().scrub.state, 'retrying');
    } finally {
      await scheduler.close();
    }
  });
});
