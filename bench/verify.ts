/**
 * Benchmark: `overlay-warden verify` (the worker pool) vs `nix-store --verify --check-contents` (Nix 2.8, one
 * thread) vs the machine's SHA-256 limit (`openssl speed -evp sha256 -multi N`), on one generated store, with a
 * warm page cache and then a cold one (`echo 3 > /proc/sys/vm/drop_caches`, needs root).
 */
// Usage: npm run bench:verify [-- [--rebuild] [--threads auto,N,M,…] [--rounds N] [--cold-rounds N] [--skip-cold] [--sources]].
// overlay-warden runs as shipped: compiled to JavaScript (`npm run build`'s settings); --sources runs the .ts files
// under type stripping instead, which adds its start-up (about 0.3 s, plus 0.1 s a worker thread) to every run.
// Cache: $OVERLAY_WARDEN_BENCH_DIR or /var/tmp/overlay-warden-bench, then verify/<FIXTURE_VERSION>.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { hashingThreads } from '../agent/audit/pool-threads.ts';
import { benchCliMain, describeCli } from './built-cli.ts';
import { contentPool, prng } from './fixture-random.ts';
import { nixEnv } from '../test/support/nix-kit.ts';

/** Bump when the generated store changes: the cache is keyed by it. */
const FIXTURE_VERSION = 'verify-bench-v2';
const MiB = 1 << 20;
/** Package-like trees (many small files, some medium, a quarter with one big file) and single-file paths. */
const PACKAGES = 2000;
const SINGLE_FILES = 200;
const MIN_NAR_BYTES = 1 << 30;
const MIN_PATHS = 2000;

const { values: args } = parseArgs({
  options: {
    rebuild: { type: 'boolean', default: false },
    threads: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    'cold-rounds': { type: 'string', default: '3' },
    'skip-cold': { type: 'boolean', default: false },
    sources: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const coldRounds = Number(args['cold-rounds']);
for (const [flag, n, given] of [
  ['--rounds', rounds, args.rounds],
  ['--cold-rounds', coldRounds, args['cold-rounds']],
] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a positive whole number, got '${given}'`);
}
const cores = os.availableParallelism();
const defaultThreads = hashingThreads('auto', cores);
/** `auto` runs without --threads (adaptive concurrency on `auto` threads); numbers fix the threads. */
const threadCounts: Array<number | 'auto'> = (args.threads ?? 'auto').split(',').map((t) => (t === 'auto' ? 'auto' : Number(t)));
if (threadCounts.some((n) => n !== 'auto' && (!Number.isInteger(n) || n < 1))) throw new Error(`--threads takes whole numbers or auto, got '${args.threads}'`);
const cacheDir = path.join(process.env.OVERLAY_WARDEN_BENCH_DIR ?? '/var/tmp/overlay-warden-bench', 'verify', FIXTURE_VERSION);
const lowerRoot = path.join(cacheDir, 'lower');
const mergedRoot = path.join(cacheDir, 'merged');
const upperLayer = path.join(cacheDir, 'upper');
const marker = path.join(cacheDir, 'complete.json');
const storeUrl = `local-overlay://?root=${mergedRoot}&lower-store=${encodeURIComponent(`${lowerRoot}?read-only=true`)}&upper-layer=${upperLayer}`;

interface Counts {
  files: number;
  bytes: number;
}

/**
 * One package, shaped like a real store path: a few nested dirs, 40-240 files log-uniform in 0-64 KiB (headers,
 * scripts, docs, small libraries; some executable), one in six packages a medium file (0.3-1.3 MiB), one in twelve
 * a big one (2-6 MiB), one in eighty a very big one (12-20 MiB), a few symlinks. Most of the cost is per file, as in
 * a real store, not per byte.
 */
function generatePackage(dir: string, index: number, pool: Buffer, counts: Counts): void {
  const rnd = prng(index + 1);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const write = (file: string, size: number, mode = 0o644): void => {
    const at = pick(pool.length - size);
    fs.writeFileSync(file, pool.subarray(at, at + size), { mode });
    counts.files++;
    counts.bytes += size;
  };
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
  if (index % 6 === 3) write(path.join(dir, 'medium.dat'), 300 * 1024 + pick(1024 * 1024));
  if (index % 12 === 1) write(path.join(dir, 'big.bin'), 2 * MiB + pick(4 * MiB), 0o755);
  if (index % 80 === 7) write(path.join(dir, 'huge.bin'), 12 * MiB + pick(8 * MiB));
  for (let l = 0; l < 1 + pick(4); l++) fs.symlinkSync(path.relative(dir, files[pick(files.length)]!), path.join(dir, `link${l}`));
}

/** Generates the sources, adds them to a lower store with real Nix (in batches), and makes an empty upper side. */
function buildStore(): void {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const src = path.join(cacheDir, 'src');
  fs.mkdirSync(src, { recursive: true });
  const started = performance.now();
  const pool = contentPool(9);
  const counts: Counts = { files: 0, bytes: 0 };
  const sources: string[] = [];
  for (let p = 0; p < PACKAGES; p++) {
    const dir = path.join(src, `pkg-${String(p).padStart(4, '0')}-${['lib', 'tool', 'data', 'py3'][p % 4]}`);
    generatePackage(dir, p, pool, counts);
    sources.push(dir);
  }
  for (let s = 0; s < SINGLE_FILES; s++) {
    const file = path.join(src, `single-${s}.txt`);
    const size = (s * 7919) % 20_000;
    fs.writeFileSync(file, pool.subarray(s * 4096, s * 4096 + size));
    counts.files++;
    counts.bytes += size;
    sources.push(file);
  }
  const generated = performance.now();
  console.log(
    `generated ${sources.length} paths, ${counts.files} files, ${(counts.bytes / MiB).toFixed(0)} MiB in ${((generated - started) / 1000).toFixed(1)} s`,
  );
  for (let i = 0; i < sources.length; i += 250) run('nix-store', ['--store', lowerRoot, '--add', ...sources.slice(i, i + 250)]);
  console.log(`nix-store --add took ${((performance.now() - generated) / 1000).toFixed(1)} s`);
  fs.rmSync(src, { recursive: true, force: true });
  // The overlay store's side: an empty upper layer and an upper DB (Nix creates it on first use).
  fs.mkdirSync(upperLayer, { recursive: true });
  fs.mkdirSync(path.join(mergedRoot, 'nix/store'), { recursive: true });
  run('nix-store', ['--store', mergedRoot, '--verify']);
  fs.writeFileSync(marker, `${JSON.stringify({ version: FIXTURE_VERSION, ...counts })}\n`);
}

function run(command: string, argv: readonly string[]): string {
  const result = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 64 * MiB, env: nixEnv() });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${argv.slice(0, 4).join(' ')} … exited ${result.status}: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

function narTotals(): { paths: number; bytes: number } {
  const db = new DatabaseSync(path.join(lowerRoot, 'nix/var/nix/db/db.sqlite'), { readOnly: true });
  try {
    const row = db.prepare('select count(*) as paths, sum(narSize) as bytes from ValidPaths').get() as { paths: number; bytes: number };
    return { paths: row.paths, bytes: row.bytes };
  } finally {
    db.close();
  }
}

/** Wall seconds of a command (run to completion); throws unless it exits 0. */
function timed(command: string, argv: readonly string[]): number {
  const started = performance.now();
  run(command, argv);
  return (performance.now() - started) / 1000;
}

const CLI_MAIN = benchCliMain(args.sources);

/** Our verify of every lower-DB path, as a user runs it (a child process, start-up included). */
function timeOurs(threads: number | 'auto'): number {
  const started = performance.now();
  const out = run(process.execPath, [
    CLI_MAIN,
    'verify',
    '--lower',
    '--json',
    ...(threads === 'auto' ? [] : ['--threads', String(threads)]),
    '--store',
    storeUrl,
  ]);
  const seconds = (performance.now() - started) / 1000;
  const report = JSON.parse(out) as { findings: unknown[]; checked: number; total: number };
  if (report.findings.length > 0 || report.checked !== report.total) throw new Error(`our verify found problems in a healthy store: ${out.slice(0, 2000)}`);
  return seconds;
}

function timeNix(): number {
  return timed('nix-store', ['--store', lowerRoot, '--verify', '--check-contents']);
}

/** `openssl speed -evp sha256 -multi N` on 1 MiB blocks: the bytes per second all cores can hash. */
function sha256Limit(processes: number): number {
  const out = run('openssl', ['speed', '-evp', 'sha256', '-multi', String(processes), '-seconds', '2', '-bytes', String(MiB)]);
  // The result table's last line: `sha256   <k bytes/s for each block size>` (here one size); "k" = 1000 bytes.
  const line = out
    .split('\n')
    .reverse()
    .find((l) => /^sha256\s/.test(l));
  const value = Number(line?.trim().split(/\s+/).at(-1)?.replace(/k$/, ''));
  if (!Number.isFinite(value)) throw new Error(`cannot read openssl speed's output:\n${out}`);
  return value * 1000;
}

/**
 * Reads every file of the lower store once, so the next timed run finds it all in the page cache. Run before each
 * warm run, not once: a kernel with proactive reclaim (DAMON's `pageout` scheme, on here: pages not touched for about
 * a minute are written out) empties the cache between rounds, and a "warm" run would then read from disk.
 */
function warmPageCache(): void {
  run('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 -r -n 500 -P "$2" cat > /dev/null', 'warm', path.join(lowerRoot, 'nix/store'), String(cores)]);
}

/** Whether DAMON runs (sysfs interface): then pages idle for a while leave the page cache without memory pressure. */
function proactiveReclaimOn(): boolean {
  const dir = '/sys/kernel/mm/damon/admin/kdamonds';
  try {
    return fs.readdirSync(dir).some((k) => /^[0-9]+$/.test(k) && fs.readFileSync(path.join(dir, k, 'state'), 'utf8').trim() === 'on');
  } catch {
    return false;
  }
}

function dropCaches(): boolean {
  try {
    spawnSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

if (args.rebuild || !fs.existsSync(marker)) {
  console.log(`building the bench store under ${cacheDir} …`);
  buildStore();
}
const totals = narTotals();
console.log(
  `store ${lowerRoot}: ${totals.paths} valid paths, NAR total ${(totals.bytes / MiB).toFixed(0)} MiB; ${cores} cores; overlay-warden threads ${threadCounts.join(', ')} (auto = ${defaultThreads}); CLI ${describeCli(CLI_MAIN)}`,
);
if (totals.bytes < MIN_NAR_BYTES || totals.paths < MIN_PATHS)
  console.warn('warning: the store is smaller than the target (1 GiB of NAR, 2000 paths); rerun with --rebuild');

const rate = (seconds: number): string => `${(totals.bytes / MiB / seconds).toFixed(0).padStart(5)} MiB/s`;
// The machine's limit, measured before and after the runs (the higher counts: other work can only lower it).
let limit = sha256Limit(cores);
const printLimit = (): void => console.log(`\nSHA-256 limit (openssl speed -evp sha256 -multi ${cores}, 1 MiB blocks): ${(limit / MiB).toFixed(0)} MiB/s`);
printLimit();

/** Each tool's times over the rounds; the ratios compare best with best and median with median. */
interface Times {
  readonly label: string;
  readonly seconds: number[];
}

const best = (times: readonly number[]): number => Math.min(...times);
function median(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(title: string, nix: Times, ours: readonly Times[]): void {
  console.log(`\n${title}`);
  console.log(`  ${''.padEnd(42)}  best: seconds  throughput   vs Nix  | median: seconds  vs Nix`);
  for (const row of [nix, ...ours]) {
    const [b, m] = [best(row.seconds), median(row.seconds)];
    const [bNix, mNix] = [best(nix.seconds), median(nix.seconds)];
    const share = row === nix ? '' : `, ${((totals.bytes / b / limit) * 100).toFixed(0)}% of the SHA-256 limit`;
    console.log(
      `  ${row.label.padEnd(42)}  ${b.toFixed(2).padStart(6)} s  ${rate(b)}  ${(bNix / b).toFixed(2)}x  |  ${m.toFixed(2).padStart(6)} s  ${(mNix / m).toFixed(2)}x${share}`,
    );
  }
}

/**
 * Rounds that alternate the tools (so a burst of other work on the machine hits all of them alike), with `prepare`
 * (filling or emptying the page cache) before every timed run.
 */
function alternate(rounds: number, prepare: () => void): { nix: Times; ours: Times[] } {
  const nix: Times = { label: 'nix-store --verify --check-contents', seconds: [] };
  const ours: Times[] = threadCounts.map((t) => ({ label: label(t), seconds: [] }));
  for (let round = 0; round < rounds; round++) {
    prepare();
    nix.seconds.push(timeNix());
    threadCounts.forEach((t, i) => {
      prepare();
      ours[i]!.seconds.push(timeOurs(t));
    });
  }
  return { nix, ours };
}

const label = (t: number | 'auto'): string =>
  t === 'auto' ? `overlay-warden verify (auto: <=${defaultThreads} threads)` : `overlay-warden verify --threads ${t}`;

// Warm: one untimed pass of each (start-up caches, the DBs), then the rounds, each run after reading the store into
// the page cache.
if (proactiveReclaimOn()) console.log('\nnote: proactive reclaim (DAMON) is on: the store is read into the page cache again before each warm run');
timeNix();
timeOurs(threadCounts[0]!);
const warm = alternate(rounds, warmPageCache);
report(`warm page cache (${rounds} alternating rounds)`, warm.nix, warm.ours);

if (!args['skip-cold']) {
  if (!dropCaches()) {
    console.log('\ncold page cache: skipped (writing /proc/sys/vm/drop_caches needs root)');
  } else {
    const cold = alternate(coldRounds, dropCaches);
    report(`cold page cache (${coldRounds} alternating rounds, echo 3 > /proc/sys/vm/drop_caches before each run)`, cold.nix, cold.ours);
  }
}

limit = Math.max(limit, sha256Limit(cores));
printLimit();
