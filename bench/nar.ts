/** Benchmark: our single-threaded NAR hashing of a real Nix store vs `nix-store --verify --check-contents`. */
// Usage: npm run bench:nar [-- [--rounds N] [--rebuild]]. Cache: $OVERLAY_WARDEN_BENCH_DIR or /var/tmp/overlay-warden-bench/nar.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { narHashOfPathSync } from '../agent/store/nar.ts';
import { parseNarHash } from '../agent/store/nar-hash-string.ts';
import { contentPool, prng } from './fixture-random.ts';
import { nixEnv } from '../test/support/nix-kit.ts';

/** Bump when the generated tree changes: the cache is keyed by it. */
const FIXTURE_VERSION = 'nar-bench-v1';
const PACKAGES = 200;
const BIG_FILES = 160;
const MiB = 1 << 20;
const MIN_NAR_BYTES = 1 << 30;
const MIN_FILES = 100_000;

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, rebuild: { type: 'boolean', default: false } } });
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got '${args.rounds}'`);
const cacheDir = path.join(process.env.OVERLAY_WARDEN_BENCH_DIR ?? '/var/tmp/overlay-warden-bench/nar', FIXTURE_VERSION);
const root = path.join(cacheDir, 'root');
const marker = path.join(cacheDir, 'complete.json');

interface TreeCounts {
  files: number;
  symlinks: number;
  dirs: number;
  bytes: number;
}

/** One package-like tree: nested dirs, many small files (log-uniform 0-16 KiB), executables, symlinks, odd names. */
function generatePackage(dir: string, index: number, pool: Buffer, bigFile: number | undefined, counts: TreeCounts): void {
  const rnd = prng(index + 1);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const content = (size: number): Buffer => {
    const at = pick(pool.length - size);
    return pool.subarray(at, at + size);
  };
  const dirs = [dir];
  fs.mkdirSync(dir);
  const nDirs = 20 + pick(30);
  for (let d = 0; d < nDirs; d++) {
    const parent = dirs[pick(dirs.length)]!;
    const names = ['lib', 'share', 'include', 'doc', 'Locale', 'man1', 'python3.12', 'site-packages', 'zoneinfo', 'Über', 'ünïcode', 'a_b', 'B-C', 'x.d'];
    const child = path.join(parent, `${names[pick(names.length)]}${d}`);
    fs.mkdirSync(child);
    dirs.push(child);
    counts.dirs++;
  }
  const emptyDir = path.join(dirs[pick(dirs.length)]!, 'empty');
  fs.mkdirSync(emptyDir);
  counts.dirs++;
  const files: string[] = [];
  const nFiles = 480 + pick(80);
  for (let f = 0; f < nFiles; f++) {
    const stem = ['a', 'B', 'c', 'Z', '_', '.hidden', 'é', 'файл', 'x-y', '0'][pick(10)]!;
    const file = path.join(dirs[pick(dirs.length)]!, `${stem}${f}${['', '.so', '.py', '.h', '.txt'][pick(5)]}`);
    const size = f % 97 === 0 ? 0 : Math.floor(Math.exp(rnd() * Math.log(16 * 1024))) - 1;
    const executable = f % 23 === 0;
    fs.writeFileSync(file, content(size), { mode: executable ? 0o755 : 0o644 });
    files.push(file);
    counts.files++;
    counts.bytes += size;
  }
  for (let m = 0; m < 2; m++) {
    const size = 100 * 1024 + pick(400 * 1024);
    fs.writeFileSync(path.join(dirs[pick(dirs.length)]!, `medium${m}.bin`), content(size));
    counts.files++;
    counts.bytes += size;
  }
  if (bigFile !== undefined) {
    fs.writeFileSync(path.join(dir, 'big.bin'), content(bigFile), { mode: index % 2 === 0 ? 0o755 : 0o644 });
    counts.files++;
    counts.bytes += bigFile;
  }
  const nLinks = 10 + pick(20);
  for (let l = 0; l < nLinks; l++) {
    const from = path.join(dirs[pick(dirs.length)]!, `link${l}`);
    const kind = l % 3;
    const target =
      kind === 0
        ? path.relative(path.dirname(from), files[pick(files.length)]!)
        : kind === 1
          ? `/nix/store/00000000000000000000000000000000-dep-${l}/bin/tool`
          : `dangling-${l}`;
    fs.symlinkSync(target, from);
    counts.symlinks++;
  }
}

/** Generates the trees in a scratch dir, adds them with real Nix, removes the scratch dir. */
function buildStore(): void {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const src = path.join(cacheDir, 'src');
  fs.mkdirSync(src, { recursive: true });
  const started = performance.now();
  const pool = contentPool(7);
  const rnd = prng(424242);
  const counts: TreeCounts = { files: 0, symlinks: 0, dirs: 0, bytes: 0 };
  const sources: string[] = [];
  for (let p = 0; p < PACKAGES; p++) {
    const big = p < BIG_FILES ? 3 * MiB + Math.floor(rnd() * 7 * MiB) : undefined;
    const dir = path.join(src, `pkg-${String(p).padStart(3, '0')}-${['lib', 'tool', 'Data', 'py3'][p % 4]}`);
    generatePackage(dir, p, pool, big, counts);
    sources.push(dir);
  }
  for (let s = 0; s < 20; s++) {
    const file = path.join(src, `single-${s}.txt`);
    fs.writeFileSync(file, pool.subarray(s * 1000, s * 1000 + s * 997), { mode: s % 4 === 0 ? 0o755 : 0o644 });
    sources.push(file);
    counts.files++;
  }
  fs.symlinkSync('/nix/store/00000000000000000000000000000000-nowhere', path.join(src, 'top-symlink'));
  sources.push(path.join(src, 'top-symlink'));
  const generated = performance.now();
  console.log(
    `generated ${counts.files} files, ${counts.symlinks} symlinks, ${counts.dirs} dirs, ${(counts.bytes / MiB).toFixed(0)} MiB in ${((generated - started) / 1000).toFixed(1)} s`,
  );
  run('nix-store', ['--store', root, '--add', ...sources]);
  console.log(`nix-store --add took ${((performance.now() - generated) / 1000).toFixed(1)} s`);
  fs.rmSync(src, { recursive: true, force: true });
  fs.writeFileSync(marker, JSON.stringify({ version: FIXTURE_VERSION, ...counts }) + '\n');
}

function run(command: string, argv: string[]): void {
  const result = spawnSync(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * MiB, env: nixEnv() });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${argv.slice(0, 4).join(' ')} … exited ${result.status}: ${result.stderr.toString().slice(-2000)}`);
}

interface ValidPath {
  path: string;
  hash: Buffer;
  narSize: number;
}

function readValidPaths(): ValidPath[] {
  const db = new DatabaseSync(path.join(root, 'nix/var/nix/db/db.sqlite'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT path, hash, narSize FROM ValidPaths ORDER BY path').all() as { path: string; hash: string; narSize: number }[];
    return rows.map((row) => ({ path: path.join(root, row.path), hash: parseNarHash(row.hash), narSize: row.narSize }));
  } finally {
    db.close();
  }
}

/** Wall-clock and CPU (user + system) seconds of one pass. */
interface Timing {
  wall: number;
  cpu: number;
}

/** Hashes every path, counts hash or size mismatches against the DB. */
function timeOurs(paths: readonly ValidPath[]): Timing & { mismatches: number } {
  let mismatches = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const p of paths) {
    const result = narHashOfPathSync(p.path);
    if (!result.hash.equals(p.hash) || result.narSize !== p.narSize) mismatches++;
  }
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6, mismatches };
}

/** Runs nix-store --verify --check-contents under sh, whose `times` reports the child's CPU time. */
function timeNix(): Timing {
  const started = performance.now();
  const script = 'nix-store --store "$1" --verify --check-contents >/dev/null || exit 1; times';
  const result = spawnSync('sh', ['-c', script, 'sh', root], { encoding: 'utf8', env: nixEnv() });
  const wall = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`nix-store --verify failed: ${result.stderr.slice(-2000)}`);
  // `times`: line 1 the shell's user and system time, line 2 its children's, as `0m1.230000s 0m0.450000s`.
  const children = result.stdout.trim().split('\n')[1] ?? '';
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { wall, cpu };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (args.rebuild || !fs.existsSync(marker)) {
  console.log(`building the bench store under ${cacheDir} …`);
  buildStore();
}
const fixture = JSON.parse(fs.readFileSync(marker, 'utf8')) as TreeCounts;
const paths = readValidPaths();
const narBytes = paths.reduce((sum, p) => sum + p.narSize, 0);
console.log(`store ${root}: ${paths.length} valid paths, ${fixture.files} files, ${fixture.symlinks} symlinks, NAR total ${(narBytes / MiB).toFixed(0)} MiB`);
if (narBytes < MIN_NAR_BYTES || fixture.files < MIN_FILES)
  console.warn('warning: the fixture is smaller than the target (1 GiB of NAR, 100k files); rerun with --rebuild');

const warm = timeOurs(paths); // reads everything once: a warm page cache for both sides
console.log(`warm-up pass: ${warm.wall.toFixed(2)} s, ${warm.mismatches} mismatches`);
const ours: Timing[] = [];
const nix: Timing[] = [];
let mismatches = warm.mismatches;
for (let r = 0; r < rounds; r++) {
  nix.push(timeNix());
  const result = timeOurs(paths);
  ours.push(result);
  mismatches += result.mismatches;
}

const mbps = (seconds: number): string => `${(narBytes / 1e6 / seconds).toFixed(0)} MB/s`;
const summary = (timings: Timing[], key: keyof Timing): { median: number; best: number } => ({
  median: median(timings.map((t) => t[key])),
  best: Math.min(...timings.map((t) => t[key])),
});
const line = (label: string, timings: Timing[]): string => {
  const wall = summary(timings, 'wall');
  const cpu = summary(timings, 'cpu');
  return `${label}: wall median ${wall.median.toFixed(2)} s = ${mbps(wall.median)} (best ${mbps(wall.best)}); CPU median ${cpu.median.toFixed(2)} s = ${mbps(cpu.median)}   [wall ${timings.map((t) => t.wall.toFixed(2)).join(', ')}]`;
};
console.log(`${rounds} alternating rounds; MB = 10^6 bytes of NAR content`);
console.log(line('ours (narHashOfPathSync, 1 thread)  ', ours));
console.log(line('nix-store --verify --check-contents', nix));
const ratio = (key: keyof Timing, pick: 'median' | 'best'): string => (summary(nix, key)[pick] / summary(ours, key)[pick]).toFixed(2);
console.log(`ratio ours/nix (throughput): wall median ${ratio('wall', 'median')}x, wall best ${ratio('wall', 'best')}x, CPU median ${ratio('cpu', 'median')}x`);
console.log(`hash or size mismatches against the DB: ${mismatches}`);
if (mismatches !== 0) process.exitCode = 1;
