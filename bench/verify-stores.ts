/**
 * The stores `bench:verify` measures: two shapes of lower store, generated deterministically and added with real Nix
 * (`nix-store --add`), cached under /var/tmp so that re-runs start at once.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { contentPool, prng } from './fixture-random.ts';
import { nixEnv } from '../test/support/nix-kit.ts';

const MiB = 1 << 20;

/** Files and content bytes written while generating. */
interface Counts {
  files: number;
  bytes: number;
}

type Writer = (file: string, size: number, mode?: number) => void;

/** One store shape: how its paths are generated. */
export interface StoreShape {
  readonly name: string;
  /** Bump when the generator changes: the cache is keyed by it. */
  readonly version: string;
  readonly summary: string;
  /** The paths to add, generated under `src`. */
  generate(src: string, write: (rnd: () => number) => Writer): string[];
}

/**
 * `packages` (bench:verify's store until issue 16): package-like trees of 40-240 files log-uniform in 0-64 KiB, some
 * medium (0.3-1.3 MiB), big (2-6 MiB) and very big (12-20 MiB) files, a few symlinks; 2,000 packages and 200
 * single-file paths, about 2 GB of NAR.
 */
export const PACKAGES_SHAPE: StoreShape = {
  name: 'packages',
  version: 'verify-bench-v3',
  summary: 'package trees, files log-uniform up to 64 KiB, some of 0.3-20 MiB',
  generate(src, writer) {
    const sources: string[] = [];
    for (let p = 0; p < 2000; p++) {
      const dir = path.join(src, `pkg-${String(p).padStart(4, '0')}-${['lib', 'tool', 'data', 'py3'][p % 4]}`);
      const rnd = prng(p + 1);
      const pick = (n: number): number => Math.floor(rnd() * n);
      const write = writer(rnd);
      const dirs = [dir];
      fs.mkdirSync(dir);
      for (let d = 0; d < 3 + pick(8); d++) {
        const child = path.join(dirs[pick(dirs.length)]!, ['bin', 'lib', 'share', 'include', 'doc', 'man'][pick(6)]! + d);
        fs.mkdirSync(child);
        dirs.push(child);
      }
      const files: string[] = [];
      for (let f = 0; f < 40 + pick(200); f++) {
        const file = path.join(dirs[pick(dirs.length)]!, `${['a', 'lib', 'x', 'Z', '_'][pick(5)]}_${f}${['', '.so', '.py', '.h'][pick(4)]}`);
        write(file, Math.floor(Math.exp(rnd() * Math.log(64 * 1024))) - 1, f % 9 === 0 ? 0o755 : 0o644);
        files.push(file);
      }
      if (p % 6 === 3) write(path.join(dir, 'medium.dat'), 300 * 1024 + pick(1024 * 1024));
      if (p % 12 === 1) write(path.join(dir, 'big.bin'), 2 * MiB + pick(4 * MiB), 0o755);
      if (p % 80 === 7) write(path.join(dir, 'huge.bin'), 12 * MiB + pick(8 * MiB));
      for (let l = 0; l < 1 + pick(4); l++) fs.symlinkSync(path.relative(dir, files[pick(files.length)]!), path.join(dir, `link${l}`));
      sources.push(dir);
    }
    for (let s = 0; s < 200; s++) {
      const file = path.join(src, `single-${s}.txt`);
      writer(prng(100_000 + s))(file, (s * 7919) % 20_000);
      sources.push(file);
    }
    return sources;
  },
};

/**
 * `small-files` (issue 16's shape): 2,000 paths of deep trees (directory chains up to 8 deep), about 90 entries a
 * path (180k in all), nine in ten files under 4 KiB, one in ten of 4-64 KiB, and one package in ten with one file of
 * 4-10 MiB, which holds most of the bytes: about 1.7 GB of NAR, most of the cost per entry.
 */
export const SMALL_FILES_SHAPE: StoreShape = {
  name: 'small-files',
  version: 'verify-bench-small-v1',
  summary: 'deep trees, ~90 entries a path, 9 in 10 files < 4 KiB, 1 package in 10 with a 4-10 MiB file',
  generate(src, writer) {
    const sources: string[] = [];
    for (let p = 0; p < 2000; p++) {
      const dir = path.join(src, `pkg-${String(p).padStart(4, '0')}-${['lib', 'tool', 'doc', 'py3'][p % 4]}`);
      const rnd = prng(700_000 + p);
      const pick = (n: number): number => Math.floor(rnd() * n);
      const write = writer(rnd);
      const dirs = [dir];
      fs.mkdirSync(dir);
      // Directory chains: each new directory goes under a random one, often the newest (deep trees).
      const dirCount = 8 + pick(15);
      for (let d = 0; d < dirCount; d++) {
        const parent = rnd() < 0.6 ? dirs.at(-1)! : dirs[pick(dirs.length)]!;
        const child = path.join(parent, `${['lib', 'share', 'site-packages', 'include', 'locale', 'x86_64'][pick(6)]}${d}`);
        if (child.split('/').length - dir.split('/').length > 8) continue;
        fs.mkdirSync(child);
        dirs.push(child);
      }
      const files: string[] = [];
      const fileCount = 45 + pick(60);
      for (let f = 0; f < fileCount; f++) {
        const file = path.join(dirs[pick(dirs.length)]!, `${['mod', '__init__', 'x', 'README', 'po'][pick(5)]}_${f}${['', '.py', '.h', '.mo'][pick(4)]}`);
        const size = rnd() < 0.9 ? Math.floor(Math.exp(rnd() * Math.log(4096))) - 1 : 4096 + Math.floor(Math.exp(rnd() * Math.log(60 * 1024)));
        write(file, size, f % 11 === 0 ? 0o755 : 0o644);
        files.push(file);
      }
      if (p % 10 === 4) write(path.join(dir, 'libbig.so'), 4 * MiB + pick(6 * MiB), 0o755);
      const linkCount = 2 + pick(6);
      for (let l = 0; l < linkCount; l++) fs.symlinkSync(path.relative(dir, files[pick(files.length)]!), path.join(dir, `link${l}`));
      sources.push(dir);
    }
    return sources;
  },
};

export const STORE_SHAPES: readonly StoreShape[] = [PACKAGES_SHAPE, SMALL_FILES_SHAPE];

/** Where a shape's store lives, and the overlay store URL over it (an empty upper layer). */
export interface BenchStore {
  readonly shape: StoreShape;
  readonly lowerRoot: string;
  readonly storeUrl: string;
  readonly paths: number;
  readonly narBytes: number;
  /** Entries (files, directories, symlinks) in all paths, as counted when generated. */
  readonly entries: number;
}

/** The store of `shape` under `baseDir`, generated and added with Nix unless the cache has it (or `rebuild`). */
export function benchStore(shape: StoreShape, baseDir: string, rebuild: boolean): BenchStore {
  const cacheDir = path.join(baseDir, 'verify', shape.version);
  const lowerRoot = path.join(cacheDir, 'lower');
  const mergedRoot = path.join(cacheDir, 'merged');
  const upperLayer = path.join(cacheDir, 'upper');
  const marker = path.join(cacheDir, 'complete.json');
  if (rebuild || !fs.existsSync(marker)) {
    console.log(`building the ${shape.name} store under ${cacheDir} …`);
    buildStore(shape, cacheDir, lowerRoot, mergedRoot, upperLayer, marker);
  }
  const recorded = JSON.parse(fs.readFileSync(marker, 'utf8')) as { entries?: number };
  const { paths, bytes } = narTotals(lowerRoot);
  return {
    shape,
    lowerRoot,
    storeUrl: `local-overlay://?root=${mergedRoot}&lower-store=${encodeURIComponent(`${lowerRoot}?read-only=true`)}&upper-layer=${upperLayer}`,
    paths,
    narBytes: bytes,
    entries: recorded.entries ?? countEntries(path.join(lowerRoot, 'nix/store')),
  };
}

function buildStore(shape: StoreShape, cacheDir: string, lowerRoot: string, mergedRoot: string, upperLayer: string, marker: string): void {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const src = path.join(cacheDir, 'src');
  fs.mkdirSync(src, { recursive: true });
  const started = performance.now();
  const pool = contentPool(9);
  const counts: Counts = { files: 0, bytes: 0 };
  const sources = shape.generate(src, (rnd) => (file, size, mode = 0o644) => {
    const at = Math.floor(rnd() * (pool.length - size));
    fs.writeFileSync(file, pool.subarray(at, at + size), { mode });
    counts.files++;
    counts.bytes += size;
  });
  const entries = countEntries(src) - 1;
  const generated = performance.now();
  console.log(
    `generated ${sources.length} paths, ${entries} entries, ${counts.files} files, ${(counts.bytes / MiB).toFixed(0)} MiB in ${((generated - started) / 1000).toFixed(1)} s`,
  );
  for (let i = 0; i < sources.length; i += 250) runNix(['--store', lowerRoot, '--add', ...sources.slice(i, i + 250)]);
  console.log(`nix-store --add took ${((performance.now() - generated) / 1000).toFixed(1)} s`);
  fs.rmSync(src, { recursive: true, force: true });
  // The overlay store's side: an empty upper layer and an upper DB (Nix creates it on first use).
  fs.mkdirSync(upperLayer, { recursive: true });
  fs.mkdirSync(path.join(mergedRoot, 'nix/store'), { recursive: true });
  runNix(['--store', mergedRoot, '--verify']);
  fs.writeFileSync(marker, `${JSON.stringify({ version: shape.version, entries, ...counts })}\n`);
}

/** Entries under `dir`, itself included, without following symlinks. */
function countEntries(dir: string): number {
  let n = 1;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) n += entry.isDirectory() ? countEntries(path.join(dir, entry.name)) : 1;
  return n;
}

function runNix(argv: readonly string[]): string {
  const result = spawnSync('nix-store', argv, { encoding: 'utf8', maxBuffer: 64 * MiB, env: nixEnv() });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`nix-store ${argv.slice(0, 4).join(' ')} … exited ${result.status}: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

function narTotals(lowerRoot: string): { paths: number; bytes: number } {
  const db = new DatabaseSync(path.join(lowerRoot, 'nix/var/nix/db/db.sqlite'), { readOnly: true });
  try {
    const row = db.prepare('select count(*) as paths, sum(narSize) as bytes from ValidPaths').get() as { paths: number; bytes: number };
    return { paths: row.paths, bytes: row.bytes };
  } finally {
    db.close();
  }
}
