/** Builds a demo local-overlay store on disk: a lower store, an upper layer with its own DB, a workdir and a mount point. */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, messageOf } from '../errors/index.ts';
import { percentEncode } from '../store/index.ts';
import { DemoLayerWriter, referencesOfDemoPath } from './demo-layer-writer.ts';
import { LAYER_CODE, lowerRoots, planDemoGraph, upperRoots } from './demo-graph.ts';
import { demoHashPart, demoPackageName } from './demo-names.ts';
import { DemoStoreError } from './demo-store-error.ts';
import { resolveDemoStoreOptions, type DemoStoreOptions } from './demo-store-options.ts';
import { createRandom } from './seeded-random.ts';

export type { DemoStoreOptions, DemoStoreProgress } from './demo-store-options.ts';

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

/**
 * Builds a demo store in `dir` (created if missing; must be empty), deterministically from the options. NAR hashes
 * and sizes are computed from the written files with our NAR code, so real Nix's `--verify --check-contents` accepts
 * both DBs. Hash parts are derived from the seed, not from contents, which Nix does not check.
 * @throws DemoStoreError DEMO_STORE_BAD_OPTION (evidence: option, value), DEMO_STORE_DIR_NOT_EMPTY, DEMO_STORE_IO
 *   (a file system error, evidence: path); rejects with `signal.reason` when aborted.
 */
export async function buildDemoStore(dir: string, options: DemoStoreOptions = {}): Promise<DemoStore> {
  const started = performance.now();
  const o = resolveDemoStoreOptions(options);
  options.signal?.throwIfAborted();
  const root = path.resolve(dir);
  prepareDir(root);
  const layout = layoutOf(root, o.storeDir);
  const graph = planDemoGraph({
    seed: o.seed,
    lowerCount: o.lowerPaths,
    upperCount: o.upperPaths,
    duplicates: o.duplicates,
    maxReferences: o.maxReferences,
    contents: o.contents,
  });
  const lowerPaths = namePaths(o.seed, 'lower', o.lowerPaths, o.storeDir);
  const upperPaths = namePaths(o.seed, 'upper', o.upperPaths, o.storeDir);
  const build = new DemoLayerWriter(graph, lowerPaths, upperPaths, o, options);
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
    storeUrl: demoStoreUrl({ mergedRoot: layout.mergedRoot, upperStateDir: layout.upperStateDir, upperLayer: layout.upperLayer }, lowerUrl),
    seconds: (performance.now() - started) / 1000,
    references(storePath: string): readonly string[] | undefined {
      index ??= indexPaths(lowerPaths, upperPaths);
      const found = index.get(storePath);
      return found === undefined ? undefined : referencesOfDemoPath(graph, lowerPaths, upperPaths, found.upper, found.i).sort();
    },
  };
}

function prepareDir(root: string): void {
  let entries: string[];
  try {
    fs.mkdirSync(root, { recursive: true });
    entries = fs.readdirSync(root);
  } catch (cause) {
    throw new DemoStoreError('DEMO_STORE_IO', `cannot create demo store dir ${root}: ${errnoCode(cause) ?? messageOf(cause)}`, {
      evidence: { path: root, errno: errnoCode(cause) },
      cause,
    });
  }
  if (entries.length > 0) {
    throw new DemoStoreError('DEMO_STORE_DIR_NOT_EMPTY', `demo store dir ${root} is not empty`, {
      evidence: { path: root, entries: entries.slice(0, 5) },
      hint: 'Use a new directory, e.g. from mkdtemp.',
    });
  }
}

function mkdir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new DemoStoreError('DEMO_STORE_IO', `cannot create ${dir}: ${errnoCode(cause) ?? messageOf(cause)}`, {
      evidence: { path: dir, errno: errnoCode(cause) },
      cause,
    });
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
  // join() makes flat strings; a template literal would keep each path as a rope over its pieces (~800 bytes a path).
  for (let i = 0; i < count; i++) paths[i] = [storeDir, '/', demoHashPart(seed, tag, i), '-', demoPackageName(createRandom(seed, code, i, 2), i)].join('');
  return paths;
}

function indexPaths(lowerPaths: readonly string[], upperPaths: readonly string[]): Map<string, { upper: boolean; i: number }> {
  const index = new Map<string, { upper: boolean; i: number }>();
  lowerPaths.forEach((p, i) => index.set(p, { upper: false, i }));
  upperPaths.forEach((p, i) => index.set(p, { upper: true, i }));
  return index;
}

/** The demo's `local-overlay://` URL for its layout with `lowerUrl` (%-escaped here) as its lower store (pure). */
export function demoStoreUrl(parts: { readonly mergedRoot: string; readonly upperStateDir: string; readonly upperLayer: string }, lowerUrl: string): string {
  return (
    `local-overlay://?root=${urlPath(parts.mergedRoot)}&state=${urlPath(parts.upperStateDir)}` +
    `&lower-store=${percentEncode(lowerUrl)}&upper-layer=${urlPath(parts.upperLayer)}`
  );
}

/** A path as a URL parameter value: %-escaped except for slashes, which stay readable. */
function urlPath(p: string): string {
  return percentEncode(p, '/');
}
