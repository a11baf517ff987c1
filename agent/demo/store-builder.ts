/** Builds a demo local-overlay store on disk: a lower store, an upper layer with its own DB, a workdir and a mount point. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { errnoCode } from '../errors/index.ts';
import { narHashOfPathSync } from '../store/nar.ts';
import { formatNarHash } from '../store/nar-hash-string.ts';
import { percentEncode } from '../store/percent-encoding.ts';
import { DemoStoreError } from './demo-store-error.ts';
import { LAYER_CODE, OBJECT_KINDS, lowerRoots, planDemoGraph, targetsOf, upperRoots, type DemoContents, type DemoGraph } from './demo-graph.ts';
import { demoDeriverPath, demoHashPart, demoPackageName } from './demo-names.ts';
import { planObject, writeObject } from './demo-objects.ts';
import { createNixDb, type NixDbWriter } from './nix-db-writer.ts';
import { createRandom } from './seeded-random.ts';

export interface DemoStoreOptions {
  /** Seed of everything random (names, hash parts, references, contents): an unsigned 32-bit integer. Default 1. */
  readonly seed?: number;
  /** Store objects in the lower store. Default 60. */
  readonly lowerPaths?: number;
  /** Store objects only in the upper layer. Default 20. */
  readonly upperPaths?: number;
  /** Lower paths also copied into the upper layer and registered in the upper DB (dedupe candidates). Default 0. */
  readonly duplicates?: number;
  /** `mixed` (default) or `mostly-files` (95 % single small files: for scale). */
  readonly contents?: DemoContents;
  /** Most references a path gets (besides itself). Default 4. */
  readonly maxReferences?: number;
  /** The logical store dir paths are named under. Default `/nix/store`. */
  readonly storeDir?: string;
  /** Put `?read-only=true` on the lower store in `storeUrl` (Nix then opens the lower DB immutable). Default true. */
  readonly lowerReadOnly?: boolean;
  /** registrationTime of the first path; later ones count up by one. Default 1700000000. */
  readonly registrationTime?: number;
  readonly signal?: AbortSignal;
  /** Called every few thousand paths and at the end of each layer. */
  readonly onProgress?: (progress: DemoStoreProgress) => void;
}

export interface DemoStoreProgress {
  readonly phase: 'lower' | 'upper';
  readonly done: number;
  readonly total: number;
}

/** The lower store: a plain local store at `root`. */
export interface DemoLowerStore {
  readonly root: string;
  /** ROOT/nix/store: the overlay's lowerdir. */
  readonly realStoreDir: string;
  /** ROOT/nix/var/nix. */
  readonly stateDir: string;
  readonly db: string;
  /** Its valid paths (logical), in registration order. */
  readonly paths: readonly string[];
  /** Paths no other lower path references. */
  readonly roots: readonly string[];
}

/** The upper side: the OverlayFS upperdir and workdir, and the overlay store's state dir. */
export interface DemoUpperStore {
  /** The upperdir: upper-only objects and duplicates, directly at its top (it maps onto the store dir). */
  readonly layer: string;
  /** The OverlayFS workdir (same file system as `layer`), empty. */
  readonly workDir: string;
  /** The overlay store's Nix state dir (`state=` in storeUrl). */
  readonly stateDir: string;
  readonly db: string;
  /** Paths whose objects only the upper layer has, in registration order. */
  readonly paths: readonly string[];
  /** Lower paths whose objects the upper layer also has (same bytes); registered in both DBs. */
  readonly duplicates: readonly string[];
  /** Lower paths registered in the upper DB (what upper closures use, with duplicates and their closures), ascending. */
  readonly copiedUp: readonly string[];
  /** Registrations in the upper DB that no other upper registration references. */
  readonly roots: readonly string[];
}

/** What buildDemoStore made; every directory is absolute. */
export interface DemoStore {
  readonly dir: string;
  /** The logical store dir (what paths are named under; the overlay's merged view). */
  readonly storeDir: string;
  readonly lower: DemoLowerStore;
  readonly upper: DemoUpperStore;
  /** Root of the overlay store: its store dir ROOT/nix/store is the (empty) mount point. */
  readonly mergedRoot: string;
  readonly mergedStoreDir: string;
  /** The `local-overlay://` URL for this layout. */
  readonly storeUrl: string;
  /** Seconds the build took (file writes, hashing and DB inserts). */
  readonly seconds: number;
  /** References (sorted, self included) of a path of either layer, as both DBs record them; undefined if unknown. */
  references(storePath: string): readonly string[] | undefined;
}

/** Paths between two progress reports and event-loop yields. */
const PROGRESS_EVERY = 4096;

/**
 * Builds a demo store in `dir` (created if missing; must be empty), deterministically from the options. NAR hashes
 * and sizes are computed from the written files with our NAR code, so real Nix's `--verify --check-contents` accepts
 * both DBs. Hash parts are derived from the seed, not from contents, which Nix does not check.
 * @throws DemoStoreError DEMO_STORE_BAD_OPTION (evidence: option, value), DEMO_STORE_DIR_NOT_EMPTY, DEMO_STORE_IO
 *   (a file system error, evidence: path); rejects with `signal.reason` when aborted.
 */
export async function buildDemoStore(dir: string, options: DemoStoreOptions = {}): Promise<DemoStore> {
  const started = performance.now();
  const o = resolveOptions(options);
  options.signal?.throwIfAborted();
  const root = path.resolve(dir);
  prepareDir(root);
  const layout = layoutOf(root, o.storeDir);
  const graph = planDemoGraph({ seed: o.seed, lowerCount: o.lowerPaths, upperCount: o.upperPaths, duplicates: o.duplicates, maxReferences: o.maxReferences, contents: o.contents });
  const lowerPaths = namePaths(o.seed, 'lower', o.lowerPaths, o.storeDir);
  const upperPaths = namePaths(o.seed, 'upper', o.upperPaths, o.storeDir);
  const build = new LayerBuild(graph, lowerPaths, upperPaths, o, options);
  for (const made of [layout.lowerRealStoreDir, layout.upperLayer, layout.workDir, layout.mergedStoreDir]) mkdir(made);
  await build.lower(layout.lowerRealStoreDir, layout.lowerStateDir);
  await build.upper(layout.upperLayer, layout.upperStateDir);
  const upperRoot = upperRoots(graph);
  const lowerUrl = layout.lowerRoot + (o.lowerReadOnly ? '?read-only=true' : '');
  const pick = (indices: Iterable<number>, names: readonly string[]): string[] => Array.from(indices, (i) => names[i] as string);
  let index: Map<string, { upper: boolean; i: number }> | undefined;
  return {
    dir: root,
    storeDir: o.storeDir,
    lower: {
      root: layout.lowerRoot,
      realStoreDir: layout.lowerRealStoreDir,
      stateDir: layout.lowerStateDir,
      db: path.join(layout.lowerStateDir, 'db', 'db.sqlite'),
      paths: lowerPaths,
      roots: pick(lowerRoots(graph), lowerPaths),
    },
    upper: {
      layer: layout.upperLayer,
      workDir: layout.workDir,
      stateDir: layout.upperStateDir,
      db: path.join(layout.upperStateDir, 'db', 'db.sqlite'),
      paths: upperPaths,
      duplicates: pick(graph.duplicates, lowerPaths),
      copiedUp: pick(graph.copiedUp, lowerPaths),
      roots: [...pick(upperRoot.lower, lowerPaths), ...pick(upperRoot.upper, upperPaths)],
    },
    mergedRoot: layout.mergedRoot,
    mergedStoreDir: layout.mergedStoreDir,
    storeUrl:
      `local-overlay://?root=${urlPath(layout.mergedRoot)}&state=${urlPath(layout.upperStateDir)}` +
      `&lower-store=${percentEncode(lowerUrl)}&upper-layer=${urlPath(layout.upperLayer)}`,
    seconds: (performance.now() - started) / 1000,
    references(storePath: string): readonly string[] | undefined {
      index ??= indexPaths(lowerPaths, upperPaths);
      const found = index.get(storePath);
      return found === undefined ? undefined : build.referencesOf(found.upper, found.i).sort();
    },
  };
}

type ResolvedOptions = Required<Omit<DemoStoreOptions, 'signal' | 'onProgress'>>;

/** Writes the objects of both layers and their DBs; keeps each lower path's narHash for the upper DB's copies. */
class LayerBuild {
  readonly #graph: DemoGraph;
  readonly #lowerPaths: readonly string[];
  readonly #upperPaths: readonly string[];
  readonly #o: ResolvedOptions;
  readonly #options: DemoStoreOptions;
  readonly #lowerHashes: Buffer;
  readonly #lowerSizes: Float64Array;

  constructor(graph: DemoGraph, lowerPaths: readonly string[], upperPaths: readonly string[], o: ResolvedOptions, options: DemoStoreOptions) {
    this.#graph = graph;
    this.#lowerPaths = lowerPaths;
    this.#upperPaths = upperPaths;
    this.#o = o;
    this.#options = options;
    this.#lowerHashes = Buffer.alloc(graph.lowerCount * 32);
    this.#lowerSizes = new Float64Array(graph.lowerCount);
  }

  /** References of a path as logical paths (unsorted), self included. */
  referencesOf(upper: boolean, i: number): string[] {
    const g = this.#graph;
    if (!upper) {
      const refs = Array.from(targetsOf(g.lowerRefs, i), (t) => this.#lowerPaths[t] as string);
      return g.lowerSelf[i] === 1 ? [...refs, this.#lowerPaths[i] as string] : refs;
    }
    const refs = [...Array.from(targetsOf(g.upperToLower, i), (t) => this.#lowerPaths[t] as string), ...Array.from(targetsOf(g.upperToUpper, i), (t) => this.#upperPaths[t] as string)];
    return g.upperSelf[i] === 1 ? [...refs, this.#upperPaths[i] as string] : refs;
  }

  async lower(realStoreDir: string, stateDir: string): Promise<void> {
    const g = this.#graph;
    const ids = new Uint32Array(g.lowerCount);
    await this.#withDb(stateDir, async (db) => {
      for (let i = 0; i < g.lowerCount; i++) {
        const { hash, narSize } = this.#writeObject(realStoreDir, false, i);
        hash.copy(this.#lowerHashes, i * 32);
        this.#lowerSizes[i] = narSize;
        const id = db.addPath(this.#lowerRegistration(i));
        ids[i] = id;
        for (const t of targetsOf(g.lowerRefs, i)) db.addReference(id, ids[t] as number);
        if (g.lowerSelf[i] === 1) db.addReference(id, id);
        await this.#progress('lower', i + 1, g.lowerCount);
      }
    });
  }

  async upper(layer: string, stateDir: string): Promise<void> {
    const g = this.#graph;
    const lowerIds = new Uint32Array(g.lowerCount);
    const upperIds = new Uint32Array(g.upperCount);
    const duplicate = new Uint8Array(g.lowerCount);
    for (const i of g.duplicates) duplicate[i] = 1;
    const total = g.copiedUp.length + g.upperCount;
    await this.#withDb(stateDir, async (db) => {
      let done = 0;
      for (const i of g.copiedUp) {
        if (duplicate[i] === 1) {
          const { hash } = this.#writeObject(layer, false, i);
          assert.ok(hash.equals(this.#lowerHashes.subarray(i * 32, i * 32 + 32)), `duplicate ${this.#lowerPaths[i]} differs from its lower copy`);
        }
        const id = db.addPath(this.#lowerRegistration(i));
        lowerIds[i] = id;
        for (const t of targetsOf(g.lowerRefs, i)) db.addReference(id, lowerIds[t] as number);
        if (g.lowerSelf[i] === 1) db.addReference(id, id);
        await this.#progress('upper', ++done, total);
      }
      for (let u = 0; u < g.upperCount; u++) {
        const { hash, narSize } = this.#writeObject(layer, true, u);
        const id = db.addPath({ path: this.#upperPaths[u] as string, narHash: formatNarHash(hash), narSize, registrationTime: this.#o.registrationTime + g.lowerCount + u, ultimate: true });
        upperIds[u] = id;
        for (const t of targetsOf(g.upperToLower, u)) db.addReference(id, lowerIds[t] as number);
        for (const t of targetsOf(g.upperToUpper, u)) db.addReference(id, upperIds[t] as number);
        if (g.upperSelf[u] === 1) db.addReference(id, id);
        await this.#progress('upper', ++done, total);
      }
    });
  }

  #lowerRegistration(i: number) {
    const storePath = this.#lowerPaths[i] as string;
    return {
      path: storePath,
      narHash: formatNarHash(this.#lowerHashes.subarray(i * 32, i * 32 + 32)),
      narSize: this.#lowerSizes[i] as number,
      registrationTime: this.#o.registrationTime + i,
      // Substituted paths keep the deriver they were built from, which is not valid here (a third of them).
      deriver: i % 3 === 0 ? demoDeriverPath(this.#o.storeDir, this.#o.seed, i, storePath.slice(this.#o.storeDir.length + 34)) : undefined,
    };
  }

  /** Writes object i of a layer under `dir` and returns its NAR hash and size. */
  #writeObject(dir: string, upper: boolean, i: number): { hash: Buffer; narSize: number } {
    const g = this.#graph;
    const storePath = (upper ? this.#upperPaths : this.#lowerPaths)[i] as string;
    const kind = OBJECT_KINDS[(upper ? g.upperKinds : g.lowerKinds)[i] as number] ?? 'file';
    const seeds = [this.#o.seed, upper ? LAYER_CODE.upper : LAYER_CODE.lower, i];
    const selfReference = (upper ? g.upperSelf : g.lowerSelf)[i] === 1;
    const references = this.referencesOf(upper, i).filter((r) => r !== storePath);
    const objectPath = path.join(dir, path.posix.basename(storePath));
    try {
      writeObject(objectPath, planObject({ kind, seeds, storePath, references, selfReference }));
      return narHashOfPathSync(objectPath);
    } catch (cause) {
      throw new DemoStoreError('DEMO_STORE_IO', `cannot write demo store object ${objectPath}: ${errnoCode(cause) ?? String(cause)}`, { evidence: { path: objectPath, errno: errnoCode(cause) }, cause });
    }
  }

  async #withDb(stateDir: string, fill: (db: NixDbWriter) => Promise<void>): Promise<void> {
    const db = createNixDb(stateDir);
    try {
      await fill(db);
      db.finish();
    } finally {
      db.abort();
    }
  }

  async #progress(phase: 'lower' | 'upper', done: number, total: number): Promise<void> {
    if (done % PROGRESS_EVERY !== 0 && done !== total) return;
    this.#options.onProgress?.({ phase, done, total });
    await yieldToEventLoop();
    this.#options.signal?.throwIfAborted();
  }
}

function resolveOptions(options: DemoStoreOptions): ResolvedOptions {
  const count = (option: keyof DemoStoreOptions, fallback: number, max = 50_000_000): number => {
    const value = options[option] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) throw badOption(option, value, `an integer from 0 to ${max}`);
    return value;
  };
  const resolved: ResolvedOptions = {
    seed: count('seed', 1, 0xffffffff),
    lowerPaths: count('lowerPaths', 60),
    upperPaths: count('upperPaths', 20),
    duplicates: count('duplicates', 0),
    maxReferences: count('maxReferences', 4, 64),
    registrationTime: count('registrationTime', 1_700_000_000, 2 ** 40),
    contents: options.contents ?? 'mixed',
    storeDir: options.storeDir ?? '/nix/store',
    lowerReadOnly: options.lowerReadOnly ?? true,
  };
  if (resolved.duplicates > resolved.lowerPaths) throw badOption('duplicates', resolved.duplicates, `at most lowerPaths (${resolved.lowerPaths})`);
  if (resolved.contents !== 'mixed' && resolved.contents !== 'mostly-files') throw badOption('contents', resolved.contents, "'mixed' or 'mostly-files'");
  if (!/^\/[^\0]*[^/]$/.test(resolved.storeDir) || path.posix.normalize(resolved.storeDir) !== resolved.storeDir) {
    throw badOption('storeDir', resolved.storeDir, 'an absolute, normalised path without a trailing slash');
  }
  return Object.freeze(resolved);
}

function badOption(option: string, value: unknown, expected: string): DemoStoreError {
  return new DemoStoreError('DEMO_STORE_BAD_OPTION', `demo store option ${option} is ${JSON.stringify(value)}, expected ${expected}`, { evidence: { option, value, expected } });
}

function prepareDir(root: string): void {
  let entries: string[];
  try {
    fs.mkdirSync(root, { recursive: true });
    entries = fs.readdirSync(root);
  } catch (cause) {
    throw new DemoStoreError('DEMO_STORE_IO', `cannot create demo store dir ${root}: ${errnoCode(cause) ?? String(cause)}`, { evidence: { path: root, errno: errnoCode(cause) }, cause });
  }
  if (entries.length > 0) {
    throw new DemoStoreError('DEMO_STORE_DIR_NOT_EMPTY', `demo store dir ${root} is not empty`, { evidence: { path: root, entries: entries.slice(0, 5) }, hint: 'Use a new directory, e.g. from mkdtemp.' });
  }
}

function mkdir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new DemoStoreError('DEMO_STORE_IO', `cannot create ${dir}: ${errnoCode(cause) ?? String(cause)}`, { evidence: { path: dir, errno: errnoCode(cause) }, cause });
  }
}

function layoutOf(root: string, storeDir: string) {
  const lowerRoot = path.join(root, 'lower');
  const mergedRoot = path.join(root, 'merged');
  return {
    lowerRoot,
    lowerRealStoreDir: path.join(lowerRoot, storeDir),
    lowerStateDir: path.join(lowerRoot, 'nix', 'var', 'nix'),
    upperLayer: path.join(root, 'upper', 'store'),
    workDir: path.join(root, 'upper', 'work'),
    upperStateDir: path.join(root, 'upper', 'state'),
    mergedRoot,
    mergedStoreDir: path.join(mergedRoot, storeDir),
  };
}

function namePaths(seed: number, tag: 'lower' | 'upper', count: number, storeDir: string): string[] {
  const paths = new Array<string>(count);
  const code = tag === 'lower' ? LAYER_CODE.lower : LAYER_CODE.upper;
  for (let i = 0; i < count; i++) paths[i] = `${storeDir}/${demoHashPart(seed, tag, i)}-${demoPackageName(createRandom(seed, code, i, 2), i)}`;
  return paths;
}

function indexPaths(lowerPaths: readonly string[], upperPaths: readonly string[]): Map<string, { upper: boolean; i: number }> {
  const index = new Map<string, { upper: boolean; i: number }>();
  lowerPaths.forEach((p, i) => index.set(p, { upper: false, i }));
  upperPaths.forEach((p, i) => index.set(p, { upper: true, i }));
  return index;
}

/** A path as a URL parameter value: %-escaped except for slashes, which stay readable. */
function urlPath(p: string): string {
  return percentEncode(p, '/');
}
