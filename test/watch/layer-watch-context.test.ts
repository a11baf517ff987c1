import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DriftEvent } from '../../agent/watch/drift-events.ts';
import { LayerWatchContext, listToResync } from '../../agent/watch/layer-watch-context.ts';
import { SerialQueue } from '../../agent/watch/serial-queue.ts';
import { WatchError } from '../../agent/watch/watch-errors.ts';

const h = (c: string): string => c.repeat(32);
const NOW = new Date('2025-01-02T03:04:05.000Z');

describe('watch/layer-watch-context', () => {
  let dir = '';
  let drifts: DriftEvent[] = [];
  let errors: WatchError[] = [];
  let context: LayerWatchContext;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-watchctx-'));
    drifts = [];
    errors = [];
    context = new LayerWatchContext({
      storeDir: '/nix/store',
      queue: new SerialQueue(() => {}),
      debounceMs: 10,
      maxBatchNames: 100,
      dirCheckMs: 1000,
      persistent: false,
      now: () => NOW,
      onDrift: (event) => drifts.push(event),
      onError: (error) => errors.push(error),
      onHealth: (event) => assert.fail(`no watch is started here: ${event.type}`),
    });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names paths under the logical store dir and stamps events as the watch saw them, now', () => {
    context.emit({ type: 'lower-grew', paths: [context.pathOf(`${h('a')}-x`)] });
    assert.deepEqual(drifts, [{ type: 'lower-grew', paths: [`/nix/store/${h('a')}-x`], source: 'watch', at: NOW.toISOString() }]);
  });

  it('stats entries: an object, a missing name as absent, and an lstat failure as WATCH_STAT_FAILED (no state)', () => {
    fs.mkdirSync(path.join(dir, `${h('b')}-dir`));
    assert.deepEqual(context.entryOf(dir, `${h('b')}-dir`), { state: 'object', directory: true });
    assert.equal(context.stateOf(dir, `${h('c')}-gone`), 'absent');
    assert.equal(errors.length, 0);
    const tooLong = `${h('d')}-${'x'.repeat(300)}`;
    assert.equal(context.stateOf(dir, tooLong), undefined);
    assert.deepEqual(
      errors.map((e) => [e.code, e.evidence['errno'], e.evidence['path']]),
      [['WATCH_STAT_FAILED', 'ENAMETOOLONG', `${dir}/${tooLong}`]],
    );
  });

  it('a listing to resynchronise that fails is WATCH_SCAN_FAILED naming what could not be listed', async () => {
    const missing = path.join(dir, 'missing');
    await assert.rejects(listToResync(missing, `the upper layer ${missing}`), (error: unknown) => {
      assert.ok(error instanceof WatchError);
      assert.equal(error.code, 'WATCH_SCAN_FAILED');
      assert.deepEqual(error.evidence, { dir: missing });
      assert.ok(error.message.startsWith(`cannot list the upper layer ${missing}: `), error.message);
      assert.equal((error.cause as WatchError).evidence['errno'], 'ENOENT');
      return true;
    });
    fs.mkdirSync(path.join(dir, `${h('f')}-present`));
    const { entries } = await listToResync(dir, 'the test dir');
    assert.deepEqual([entries.count, entries.has(`${h('f')}-present`)], [1, true]);
  });
});
