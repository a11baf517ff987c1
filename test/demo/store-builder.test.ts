import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DemoStoreError } from '../../agent/demo/demo-store-error.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import { narHashOfPathSync } from '../../agent/store/nar.ts';
import { formatNarHash } from '../../agent/store/nar-hash-string.ts';
import { openNixDb } from '../../agent/store/nix-db.ts';
import { isValidStorePathName } from '../../agent/store/store-path.ts';
import { parseStoreUrl } from '../../agent/store/store-url.ts';
import { resolveStoreLayout } from '../../agent/store/resolve-store-layout.ts';
import { nixQuery } from '../support/nix-fixture-store.ts';
import { nixEnv, runNix } from '../support/nix-kit.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireMountNamespaces, requireNix } from '../support/requirements.ts';

/** `nix-store --verify --check-contents` on `store` (a root or a store URL): exit code and complaints (stderr minus progress lines). */
function nixVerify(store: string): { status: number | null; complaints: string[] } {
  const result = spawnSync('nix-store', ['--store', store, '--verify', '--check-contents'], { encoding: 'utf8', env: nixEnv() });
  const progress = /^(reading the Nix store|checking path existence|checking link hashes|checking store hashes)\.\.\.$/;
  return { status: result.status, complaints: result.stderr.split('\n').filter((line) => line !== '' && !progress.test(line)) };
}

/** Relative entries under `dir` (not following symlinks), with their lstat. */
function walk(dir: string, rel = ''): { rel: string; stats: fs.Stats }[] {
  const out: { rel: string; stats: fs.Stats }[] = [];
  for (const name of fs.readdirSync(path.join(dir, rel))) {
    const entryRel = path.join(rel, name);
    const stats = fs.lstatSync(path.join(dir, entryRel));
    out.push({ rel: entryRel, stats });
    if (stats.isDirectory()) out.push(...walk(dir, entryRel));
  }
  return out;
}

/** Copies a built demo store, so Nix (which writes locks, GC roots and DB settings) never touches the original. */
function copyOf(store: DemoStore, to: string): string {
  const result = spawnSync('cp', ['-a', store.dir, to]);
  assert.equal(result.status, 0, result.stderr?.toString());
  return to;
}

describe('demo store builder', function () {
  let tmp: string;
  let store: DemoStore;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-store-test-'));
    store = await buildDemoStore(path.join(tmp, 'demo'), { seed: 7, lowerPaths: 120, upperPaths: 40, duplicates: 5 });
  });

  after(function () {
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lays out both layers, a workdir and an empty mount point, and a store URL that resolves to them', function () {
    assert.equal(store.lower.paths.length, 120);
    assert.equal(store.upper.paths.length, 40);
    assert.equal(store.upper.duplicates.length, 5);
    assert.deepEqual(fs.readdirSync(store.lower.realStoreDir).sort(), store.lower.paths.map((p) => path.basename(p)).sort());
    const upperObjects = [...store.upper.paths, ...store.upper.duplicates].map((p) => path.basename(p)).sort();
    assert.deepEqual(fs.readdirSync(store.upper.layer).sort(), upperObjects);
    assert.deepEqual(fs.readdirSync(store.upper.workDir), []);
    assert.deepEqual(fs.readdirSync(store.mergedStoreDir), []);
    const layout = resolveStoreLayout(parseStoreUrl(store.storeUrl));
    assert.equal(layout.mergedStoreDir, store.mergedStoreDir);
    assert.equal(layout.stateDir, store.upper.stateDir);
    assert.equal(layout.upperDb, store.upper.db);
    assert.equal(layout.upperLayer, store.upper.layer);
    assert.equal(layout.lower.realStoreDir, store.lower.realStoreDir);
    assert.equal(layout.lower.db, store.lower.db);
    assert.equal(layout.lower.readOnly, true);
  });

  it('writes DBs as Nix leaves them: schema file 10, WAL mode, no -wal/-shm left over', function () {
    for (const db of [store.lower.db, store.upper.db]) {
      assert.equal(fs.readFileSync(path.join(path.dirname(db), 'schema'), 'utf8'), '10');
      const header = Buffer.alloc(20);
      const fd = fs.openSync(db, 'r');
      fs.readSync(fd, header, 0, 20, 0);
      fs.closeSync(fd);
      assert.equal(header.subarray(0, 15).toString('latin1'), 'SQLite format 3');
      assert.deepEqual([header[18], header[19]], [2, 2], 'file format 2 = WAL');
      assert.deepEqual(fs.readdirSync(path.dirname(db)).sort(), ['db.sqlite', 'schema']);
    }
  });

  it('names every path validly and puts every kind of NAR entry in the store', function () {
    for (const p of [...store.lower.paths, ...store.upper.paths]) {
      assert.equal(path.dirname(p), '/nix/store');
      assert.ok(isValidStorePathName(path.basename(p)), p);
    }
    const entries = walk(store.lower.realStoreDir);
    const tops = entries.filter((e) => !e.rel.includes('/'));
    assert.ok(
      tops.some((e) => e.stats.isFile() && e.stats.size > 0 && (e.stats.mode & 0o111) === 0),
      'a single-file path',
    );
    assert.ok(
      tops.some((e) => e.stats.isFile() && (e.stats.mode & 0o111) !== 0),
      'an executable path',
    );
    assert.ok(
      entries.some((e) => e.stats.isFile() && e.stats.size === 0),
      'an empty file',
    );
    assert.ok(
      entries.some((e) => e.stats.isDirectory() && fs.readdirSync(path.join(store.lower.realStoreDir, e.rel)).length === 0),
      'an empty dir',
    );
    assert.ok(
      entries.some((e) => e.rel.split('/').length >= 6),
      'nested dirs',
    );
    const links = entries.filter((e) => e.stats.isSymbolicLink());
    assert.ok(links.length > 0, 'symlinks');
    for (const link of links) {
      const target = fs.readlinkSync(path.join(store.lower.realStoreDir, link.rel));
      assert.ok(!path.isAbsolute(target), `${link.rel} -> ${target} is relative`);
      const resolved = path.normalize(path.join(path.dirname(link.rel), target));
      assert.equal(resolved.split('/')[0], link.rel.split('/')[0], `${link.rel} -> ${target} stays inside its path`);
      assert.ok(fs.existsSync(path.join(store.lower.realStoreDir, resolved)), `${link.rel} -> ${target} resolves`);
    }
  });

  it('registers what it wrote: our reader reads both DBs back with NAR hashes of the files', function () {
    const lower = openNixDb(store.lower.db, { immutable: true });
    const upper = openNixDb(store.upper.db, { immutable: true });
    try {
      assert.deepEqual(
        [...lower.iterateValidPaths()].map((r) => r.path),
        store.lower.paths,
      );
      const upperRows = [...upper.iterateValidPaths()];
      assert.deepEqual(upperRows.map((r) => r.path).sort(), [...store.upper.copiedUp, ...store.upper.paths].sort());
      for (const row of upperRows) {
        const inUpperLayer = path.join(store.upper.layer, path.basename(row.path));
        const onDisk = fs.existsSync(inUpperLayer) ? inUpperLayer : path.join(store.lower.realStoreDir, path.basename(row.path));
        const { hash, narSize } = narHashOfPathSync(onDisk);
        assert.equal(row.narHash, formatNarHash(hash), row.path);
        assert.equal(row.narSize, narSize);
        assert.deepEqual(upper.queryPathInfo(row.path)?.references, store.references(row.path));
        // The upper DB is closed under references: what it registers, it registers the closure of.
        for (const reference of store.references(row.path) ?? []) assert.ok(upper.isValidPath(reference), `${row.path} -> ${reference}`);
        if (store.lower.paths.includes(row.path))
          assert.deepEqual(lower.queryPathInfo(row.path), { ...upper.queryPathInfo(row.path), id: lower.queryPathInfo(row.path)?.id });
      }
      for (const p of store.lower.paths) assert.deepEqual(lower.queryReferences(p), store.references(p));
      // Upper closures do reach into the lower store, and some paths reference themselves.
      assert.ok(store.upper.paths.some((p) => store.references(p)?.some((r) => store.lower.paths.includes(r))));
      assert.ok([...store.lower.paths, ...store.upper.paths].some((p) => store.references(p)?.includes(p)));
      const referenced = new Set(store.upper.paths.flatMap((p) => (store.references(p) ?? []).filter((r) => r !== p)));
      assert.deepEqual(
        store.upper.paths.filter((p) => !referenced.has(p)),
        store.upper.roots.filter((p) => store.upper.paths.includes(p)),
      );
    } finally {
      lower.close();
      upper.close();
    }
  });

  it('puts duplicates byte for byte in both layers', function () {
    for (const p of store.upper.duplicates) {
      const inLower = narHashOfPathSync(path.join(store.lower.realStoreDir, path.basename(p)));
      const inUpper = narHashOfPathSync(path.join(store.upper.layer, path.basename(p)));
      assert.deepEqual(inUpper, inLower);
      assert.ok(store.upper.copiedUp.includes(p));
    }
  });

  describe('accepted by real Nix', function () {
    let copy: string;
    before(function () {
      requireNix(this);
      copy = copyOf(store, path.join(tmp, 'nix-copy'));
    });

    it('nix-store --verify --check-contents passes on the lower store', function () {
      const result = nixVerify(path.join(copy, 'lower'));
      assert.deepEqual(result.complaints, []);
      assert.equal(result.status, 0);
    });

    it('nix-store --query --references agrees with the builder for every path of both DBs', function () {
      this.timeout(300_000);
      const lowerRoot = path.join(copy, 'lower');
      for (const p of store.lower.paths) assert.deepEqual(nixQuery(lowerRoot, '--references', p).sort(), store.references(p), p);
      const upperStore = `local?root=${path.join(copy, 'merged')}&state=${path.join(copy, 'upper', 'state')}`;
      for (const p of [...store.upper.paths, ...store.upper.copiedUp]) assert.deepEqual(nixQuery(upperStore, '--references', p).sort(), store.references(p), p);
    });

    it('nix-store --verify --check-contents passes through the mounted overlay with the upper DB', function () {
      requireMountNamespaces(this);
      const merged = path.join(copy, 'merged', 'nix', 'store');
      const options = `lowerdir=${path.join(copy, 'lower', 'nix', 'store')},upperdir=${path.join(copy, 'upper', 'store')},workdir=${path.join(copy, 'upper', 'work')}`;
      const storeUrl = `local?root=${path.join(copy, 'merged')}&state=${path.join(copy, 'upper', 'state')}`;
      // One private mount namespace: mount, list, verify; the mount dies with it.
      const script = 'mount -t overlay overlay -o "$1" "$2" && ls "$2" | wc -l >&2 && exec nix-store --store "$3" --verify --check-contents';
      const result = runInFreshNamespace(['sh', '-c', script, 'sh', options, merged, storeUrl], { env: nixEnv() });
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      assert.equal(lines[0], String(store.lower.paths.length + store.upper.paths.length), 'merged view holds both layers');
      assert.deepEqual(
        lines.slice(1).filter((line) => !/^(reading the Nix store|checking .*)\.\.\.$/.test(line)),
        [],
      );
      assert.equal(result.status, 0, result.stderr);
      // Outside the namespace the mount point shows no store object (Nix's own .links dir may be there).
      assert.deepEqual(
        fs.readdirSync(merged).filter((name) => !name.startsWith('.')),
        [],
        'the mount stayed in its namespace',
      );
    });

    it('Nix notices a corrupted object (the check can fail)', function () {
      const victim = store.lower.paths
        .map((p) => path.join(copy, 'lower', 'nix', 'store', path.basename(p)))
        .find((p) => fs.lstatSync(p).isFile() && fs.statSync(p).size > 0);
      assert.ok(victim);
      fs.chmodSync(victim, 0o644);
      fs.appendFileSync(victim, 'corrupted');
      const result = nixVerify(path.join(copy, 'lower'));
      assert.notEqual(result.status, 0);
      assert.ok(
        result.complaints.some((line) => line.includes(path.basename(victim)) && line.includes('was modified')),
        result.complaints.join('\n'),
      );
    });
  });

  it('is deterministic: the same seed gives the same store, another seed another', async function () {
    const a = await buildDemoStore(path.join(tmp, 'same-a'), { seed: 3, lowerPaths: 30, upperPaths: 10, duplicates: 2 });
    const b = await buildDemoStore(path.join(tmp, 'same-b'), { seed: 3, lowerPaths: 30, upperPaths: 10, duplicates: 2 });
    const c = await buildDemoStore(path.join(tmp, 'other'), { seed: 4, lowerPaths: 30, upperPaths: 10, duplicates: 2 });
    const rows = (s: DemoStore, which: 'lower' | 'upper'): unknown[] => {
      const db = openNixDb(s[which].db, { immutable: true });
      try {
        return [...db.iterateValidPaths()].map((row) => ({ ...row, references: db.queryReferences(row.path) }));
      } finally {
        db.close();
      }
    };
    assert.deepEqual(rows(a, 'lower'), rows(b, 'lower'));
    assert.deepEqual(rows(a, 'upper'), rows(b, 'upper'));
    assert.notDeepEqual(a.lower.paths, c.lower.paths);
  });

  it('mostly-files: 95 % single files, still valid for Nix', async function () {
    requireNix(this);
    const s = await buildDemoStore(path.join(tmp, 'files'), { seed: 5, lowerPaths: 400, upperPaths: 100, contents: 'mostly-files' });
    const files = fs.readdirSync(s.lower.realStoreDir).filter((name) => fs.lstatSync(path.join(s.lower.realStoreDir, name)).isFile()).length;
    assert.ok(files >= 360 && files < 400, `${files} of 400 are single files`);
    const copy = copyOf(s, path.join(tmp, 'files-copy'));
    assert.deepEqual(nixVerify(path.join(copy, 'lower')), { status: 0, complaints: [] });
  });

  it('reports progress and stops when aborted', async function () {
    const seen: string[] = [];
    const controller = new AbortController();
    const promise = buildDemoStore(path.join(tmp, 'aborted'), {
      lowerPaths: 20_000,
      contents: 'mostly-files',
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(`${p.phase} ${p.done}/${p.total}`);
        controller.abort(new Error('enough'));
      },
    });
    await assert.rejects(promise, /enough/);
    assert.deepEqual(seen, ['lower 4096/20000']);
    await assert.rejects(buildDemoStore(path.join(tmp, 'pre-aborted'), { signal: AbortSignal.abort(new Error('already')) }), /already/);
    assert.equal(fs.existsSync(path.join(tmp, 'pre-aborted')), false);
  });

  it('DEMO_STORE_DIR_NOT_EMPTY and DEMO_STORE_BAD_OPTION naming the option', async function () {
    await assert.rejects(
      buildDemoStore(store.dir),
      (error: unknown) => error instanceof DemoStoreError && error.code === 'DEMO_STORE_DIR_NOT_EMPTY' && error.evidence['path'] === store.dir,
    );
    const bad: [Record<string, unknown>, string][] = [
      [{ lowerPaths: -1 }, 'lowerPaths'],
      [{ upperPaths: 1.5 }, 'upperPaths'],
      [{ lowerPaths: 3, duplicates: 4 }, 'duplicates'],
      [{ seed: 2 ** 32 }, 'seed'],
      [{ contents: 'huge' }, 'contents'],
      [{ storeDir: 'nix/store' }, 'storeDir'],
      [{ storeDir: '/nix/store/' }, 'storeDir'],
      [{ maxReferences: 1000 }, 'maxReferences'],
    ];
    for (const [options, option] of bad) {
      await assert.rejects(
        buildDemoStore(path.join(tmp, 'bad'), options),
        (error: unknown) => error instanceof DemoStoreError && error.code === 'DEMO_STORE_BAD_OPTION' && error.evidence['option'] === option,
        option,
      );
    }
    assert.equal(fs.existsSync(path.join(tmp, 'bad')), false, 'bad options are rejected before anything is written');
  });

  it('can name paths under another store dir, valid for Nix', async function () {
    requireNix(this);
    const s = await buildDemoStore(path.join(tmp, 'other-store'), { lowerPaths: 5, upperPaths: 2, storeDir: '/gnu/store' });
    assert.ok(s.lower.paths.every((p) => p.startsWith('/gnu/store/')));
    assert.equal(s.lower.realStoreDir, path.join(s.lower.root, 'gnu', 'store'));
    assert.equal(fs.readdirSync(s.lower.realStoreDir).length, 5);
    runNix('nix-store', ['--store', `local?root=${copyOf(s, path.join(tmp, 'gnu-copy'))}/lower&store=/gnu/store`, '--verify', '--check-contents']);
  });
});
