import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureLowerBaseline, type LowerBaseline } from '../../agent/baseline/index.ts';
import {
  LayerWatcher,
  WatchError,
  type BrokenUpperClosure,
  type DriftEvent,
  type DriftEventOf,
  type DriftEventType,
  type UpperClosureLookup,
} from '../../agent/watch/index.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

const STORE = '/nix/store';
const h = (c: string): string => c.repeat(32);
/** Generous: events normally come within the 50 ms debounce; a loaded CI machine may take seconds. */
const WAIT_MS = 30_000;

/** A real Nix 2.8 lower store (store dir and DB) plus an upper layer, all under a temp dir. */
interface Layout {
  dir: string;
  lower: string;
  lowerDb: string;
  upper: string;
}

function makeLayout(): Layout {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-layerwatch-'));
  const root = path.join(dir, 'lower');
  fs.writeFileSync(path.join(dir, 'seed'), 'seed\n');
  runNix('nix-store', ['--store', root, '--add', path.join(dir, 'seed')]);
  const upper = path.join(dir, 'upper');
  fs.mkdirSync(upper);
  return { dir, lower: path.join(root, 'nix/store'), lowerDb: path.join(root, 'nix/var/nix/db/db.sqlite'), upper };
}

/** A closure lookup that answers from a table and records what it was asked. */
function fakeClosures(table: Record<string, string[]>): UpperClosureLookup & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    brokenClosures(paths) {
      asked.push([...paths]);
      return paths.filter((p) => p in table).map((p): BrokenUpperClosure => ({ path: p, registeredInUpper: true, referrers: table[p]! }));
    },
  };
}

/** Collects a watcher's events and errors; `until` waits for an event matching `match`. */
class Recorder {
  readonly events: DriftEvent[] = [];
  readonly errors: WatchError[] = [];
  readonly #waiters: (() => void)[] = [];
  constructor(watcher: LayerWatcher) {
    watcher.on('drift', (e) => {
      this.events.push(e);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    watcher.on('error', (e) => this.errors.push(e));
  }

  async until<T extends DriftEventType>(type: T, match: (e: DriftEventOf<T>) => boolean = () => true): Promise<DriftEventOf<T>> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.events.find((e): e is DriftEventOf<T> => e.type === type && match(e as DriftEventOf<T>));
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        assert.fail(
          `no ${type} event within ${WAIT_MS} ms; got ${JSON.stringify(this.events.map((e) => e.type))}, errors ${this.errors.map((e) => e.message).join('; ')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }
}

describe('watch/layer-watcher on real directories', function () {
  let layout: Layout;
  let watcher: LayerWatcher | undefined;

  before(function () {
    requireCommand(this, 'nix-store');
  });
  beforeEach(() => (layout = makeLayout()));
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    fs.rmSync(layout.dir, { recursive: true, force: true });
  });

  async function start(options: { closures?: UpperClosureLookup; maxBatchNames?: number; baseline?: LowerBaseline } = {}): Promise<Recorder> {
    const baseline = options.baseline ?? (await captureLowerBaseline({ realStoreDir: layout.lower, db: layout.lowerDb }));
    watcher = new LayerWatcher({
      storeDir: STORE,
      lowerStoreDir: layout.lower,
      lowerDb: layout.lowerDb,
      upperLayer: layout.upper,
      upperDb: path.join(layout.dir, 'upper-db.sqlite'),
      debounceMs: 50,
      baseline,
      closures: options.closures ?? fakeClosures({}),
      persistent: false,
      ...(options.maxBatchNames === undefined ? {} : { maxBatchNames: options.maxBatchNames }),
    });
    const recorder = new Recorder(watcher);
    await watcher.start();
    return recorder;
  }

  it('reports a path added to the lower store, then its removal with the upper closures it breaks', async () => {
    const name = `${h('a')}-added-1.0`;
    const closures = fakeClosures({ [`${STORE}/${name}`]: [`${STORE}/${h('u')}-app`] });
    const rec = await start({ closures });
    fs.mkdirSync(path.join(layout.lower, name));
    const grew = await rec.until('lower-grew');
    assert.deepEqual(grew.paths, [`${STORE}/${name}`]);
    assert.equal(grew.source, 'watch');
    fs.rmdirSync(path.join(layout.lower, name));
    const shrank = await rec.until('lower-shrank');
    assert.deepEqual(shrank.paths, [`${STORE}/${name}`]);
    assert.deepEqual(shrank.brokenUpperClosures, [{ path: `${STORE}/${name}`, registeredInUpper: true, referrers: [`${STORE}/${h('u')}-app`] }]);
    assert.deepEqual(rec.errors, []);
  });

  it('does not look up closures for vanished lower paths the upper layer still holds', async () => {
    const held = `${h('b')}-held`;
    const lost = `${h('c')}-lost`;
    for (const n of [held, lost]) fs.mkdirSync(path.join(layout.lower, n));
    fs.mkdirSync(path.join(layout.upper, held));
    const closures = fakeClosures({});
    const rec = await start({ closures });
    fs.rmdirSync(path.join(layout.lower, held));
    fs.rmdirSync(path.join(layout.lower, lost));
    const shrank = await rec.until('lower-shrank', (e) => e.paths.length === 2);
    assert.deepEqual(shrank.brokenUpperClosures, []);
    assert.deepEqual(closures.asked, [[`${STORE}/${lost}`]]);
  });

  it('reports lower paths changed in place: a file chmod-ed, a directory and a file replaced by rename', async () => {
    const file = `${h('d')}-file`;
    const dir = `${h('f')}-dir`;
    fs.writeFileSync(path.join(layout.lower, file), 'one');
    fs.mkdirSync(path.join(layout.lower, dir));
    const rec = await start();
    fs.chmodSync(path.join(layout.lower, file), 0o600);
    assert.equal((await rec.until('lower-path-modified', (e) => e.path.endsWith(file))).detail, 'changed');
    fs.mkdirSync(path.join(layout.dir, 'replacement'));
    fs.rmdirSync(path.join(layout.lower, dir));
    fs.renameSync(path.join(layout.dir, 'replacement'), path.join(layout.lower, dir));
    const modified = await rec.until('lower-path-modified', (e) => e.path.endsWith(dir));
    assert.equal(modified.detail, 'changed-or-replaced');
    fs.writeFileSync(path.join(layout.dir, 'file-replacement'), 'two');
    fs.renameSync(path.join(layout.dir, 'file-replacement'), path.join(layout.lower, file));
    assert.equal((await rec.until('lower-path-modified', (e) => e.path.endsWith(file) && e.detail !== 'changed')).detail, 'replaced');
    assert.ok(!rec.events.some((e) => e.type === 'lower-grew' || e.type === 'lower-shrank'));
  });

  it('reports the lower DB replaced by rename, and modified by nix-store --add', async () => {
    const rec = await start();
    const before = fs.statSync(layout.lowerDb).ino;
    fs.copyFileSync(layout.lowerDb, `${layout.lowerDb}.new`);
    fs.renameSync(`${layout.lowerDb}.new`, layout.lowerDb);
    const replaced = await rec.until('lower-db-replaced');
    assert.equal(replaced.change, 'replaced');
    assert.equal(replaced.before?.ino, String(before));
    assert.equal(replaced.after?.ino, String(fs.statSync(layout.lowerDb).ino));

    fs.writeFileSync(path.join(layout.dir, 'more'), 'more\n');
    const added = runNix('nix-store', ['--store', path.dirname(path.dirname(layout.lower)), '--add', path.join(layout.dir, 'more')]).trim();
    const modified = await rec.until('lower-db-modified');
    assert.equal(modified.after.validPaths?.count, 2);
    assert.deepEqual((await rec.until('lower-grew')).paths, [added]);
  });

  it('reports direct deletions in the upper layer, with whether the lower has the path', async () => {
    const dup = `${h('g')}-duplicate`;
    const own = `${h('i')}-upper-only`;
    fs.mkdirSync(path.join(layout.lower, dup));
    fs.mkdirSync(path.join(layout.upper, dup));
    fs.mkdirSync(path.join(layout.upper, own));
    const rec = await start();
    fs.rmdirSync(path.join(layout.upper, dup));
    fs.rmdirSync(path.join(layout.upper, own));
    const a = await rec.until('upper-path-deleted', (e) => e.path.endsWith(dup));
    const b = await rec.until('upper-path-deleted', (e) => e.path.endsWith(own));
    assert.deepEqual([a.alsoInLower, a.entry], [true, 'object']);
    assert.deepEqual([b.alsoInLower, b.entry], [false, 'object']);
  });

  it('reports new upper paths and whiteouts appearing (a deletion through the overlay)', async function () {
    requireRoot(this);
    const masked = `${h('j')}-masked`;
    fs.mkdirSync(path.join(layout.lower, masked));
    const rec = await start();
    const built = `${h('k')}-built`;
    fs.mkdirSync(path.join(layout.upper, built));
    assert.equal((await rec.until('upper-path-added')).path, `${STORE}/${built}`);
    assert.equal(spawnSync('mknod', [path.join(layout.upper, masked), 'c', '0', '0']).status, 0);
    const whiteout = await rec.until('upper-whiteout-added');
    assert.deepEqual([whiteout.path, whiteout.masksLower], [`${STORE}/${masked}`, true]);
    fs.rmSync(path.join(layout.upper, masked));
    const unmasked = await rec.until('upper-path-deleted');
    assert.deepEqual([unmasked.entry, unmasked.alsoInLower], ['whiteout', true]);
  });

  it('ignores names created and deleted before they were looked at, Nix lock files and non-store names', async () => {
    const rec = await start();
    const flash = `${h('l')}-flash`;
    fs.mkdirSync(path.join(layout.lower, flash));
    fs.rmdirSync(path.join(layout.lower, flash));
    fs.writeFileSync(path.join(layout.lower, `${h('m')}-out.lock`), '');
    fs.mkdirSync(path.join(layout.lower, '.tmp-not-a-store-path'));
    fs.writeFileSync(path.join(layout.upper, `${h('m')}-out.lock`), '');
    // inotify reports in order: once the sentinel's event is out, every name before it was looked at too.
    const sentinel = `${h('n')}-sentinel`;
    fs.mkdirSync(path.join(layout.lower, sentinel));
    await rec.until('lower-grew', (e) => e.paths.includes(`${STORE}/${sentinel}`));
    await watcher!.flush();
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['lower-grew'],
    );
    assert.deepEqual(rec.events[0]?.type === 'lower-grew' && rec.events[0].paths, [`${STORE}/${sentinel}`]);
  });

  it('resolves a burst larger than maxBatchNames with a full listing', async () => {
    const rec = await start({ maxBatchNames: 5 });
    const names = Array.from({ length: 40 }, (_, i) => `${h('p')}-burst-${i}`);
    for (const n of names) fs.mkdirSync(path.join(layout.lower, n));
    const expected = names.map((n) => `${STORE}/${n}`).sort();
    const seen = new Set<string>();
    while (seen.size < expected.length) {
      const e = await rec.until('lower-grew', (g) => g.paths.some((p) => !seen.has(p)));
      for (const p of e.paths) seen.add(p);
    }
    assert.deepEqual([...seen].sort(), expected);
    assert.ok(rec.events.filter((e) => e.type === 'lower-grew').length <= 2);
    assert.deepEqual(watcher!.currentBaseline().entries.count, 41);
  });

  it('catches up at start with changes made after the baseline was captured', async () => {
    const baseline = await captureLowerBaseline({ realStoreDir: layout.lower, db: layout.lowerDb });
    const late = `${h('q')}-late`;
    fs.mkdirSync(path.join(layout.lower, late));
    const rec = await start({ baseline });
    assert.deepEqual((await rec.until('lower-grew')).paths, [`${STORE}/${late}`]);
  });

  it('keeps its view of the lower store for the next baseline', async () => {
    const rec = await start();
    const name = `${h('r')}-kept`;
    fs.mkdirSync(path.join(layout.lower, name));
    await rec.until('lower-grew');
    const current = watcher!.currentBaseline();
    assert.equal(current.entries.has(name), true);
    assert.equal(current.entries.count, 2);
    assert.equal(current.db?.validPaths?.count, 1);
  });

  it('fails to start with WATCH_DIR_FAILED when a directory is missing', async () => {
    const baseline = await captureLowerBaseline({ realStoreDir: layout.lower, db: layout.lowerDb });
    fs.rmSync(layout.upper, { recursive: true });
    await assert.rejects(
      start({ baseline }),
      (error: unknown) => error instanceof WatchError && error.code === 'WATCH_DIR_FAILED' && error.evidence['errno'] === 'ENOENT',
    );
  });
});
