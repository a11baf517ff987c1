/**
 * Benchmark: `overlay-warden verify --lower` as users get it (the built package in dist/, default threads and fixed
 * `--threads` 1, 2 and 2x cores) against `nix-store --verify --check-contents` (Nix 2.8, one thread), on two store
 * shapes (bench/verify-stores.ts), with a warm page cache (the store read again before every run) and a cold one
 * (`echo 3 > /proc/sys/vm/drop_caches` before every run, needs root). Every cell: median and best of the rounds, wall
 * and user+sys CPU (from /usr/bin/time), and the ratios issue 16's acceptance asks for, computed in the same run.
 */
// Usage: npm run bench:verify [-- [--rebuild] [--shapes packages,small-files] [--rounds N] [--cold-rounds N] [--skip-cold]
//   [--threads default,1,2,4] [--sources]]. The tools alternate within each round, so a burst of other work hits all alike.
// Cache: $OVERLAY_WARDEN_BENCH_DIR or /var/tmp/overlay-warden-bench, then verify/<shape version>.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashingThreads } from '../agent/audit/pool-threads.ts';
import { nixEnv } from '../test/support/nix-kit.ts';
import { benchStore, STORE_SHAPES, type BenchStore } from './verify-stores.ts';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1 << 20;

const { values: args } = parseArgs({
  options: {
    rebuild: { type: 'boolean', default: false },
    shapes: { type: 'string', default: STORE_SHAPES.map((s) => s.name).join(',') },
    threads: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    'cold-rounds': { type: 'string', default: '5' },
    'skip-cold': { type: 'boolean', default: false },
    sources: { type: 'boolean', default: false },
  },
});
const rounds = positive('--rounds', args.rounds);
const coldRounds = positive('--cold-rounds', args['cold-rounds']);
const cores = os.availableParallelism();
/** `default` runs without --threads (what users get); numbers fix the threads. */
const variants: Array<number | 'default'> = (args.threads ?? `default,1,2,${2 * cores}`).split(',').map((t) => (t === 'default' ? 'default' : Number(t)));
if (variants.some((n) => n !== 'default' && (!Number.isInteger(n) || n < 1)))
  throw new Error(`--threads takes whole numbers or default, got '${args.threads}'`);
const shapes = args.shapes.split(',').map((name) => {
  const shape = STORE_SHAPES.find((s) => s.name === name);
  if (shape === undefined) throw new Error(`no store shape '${name}'; known: ${STORE_SHAPES.map((s) => s.name).join(', ')}`);
  return shape;
});

function positive(flag: string, given: string): number {
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a positive whole number, got '${given}'`);
  return n;
}

/** The CLI as shipped: `tsc -p tsconfig.build.json` into dist/ (what `npm run build` makes), or the .ts sources. */
function cliMain(): string {
  if (args.sources) return path.join(PROJECT, 'agent/cli/main.ts');
  const tsc = spawnSync(process.execPath, [path.join(PROJECT, 'node_modules/typescript/bin/tsc'), '-p', path.join(PROJECT, 'tsconfig.build.json')], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`compiling the CLI failed:\n${tsc.stdout}${tsc.stderr}`);
  return path.join(PROJECT, 'dist/agent/cli/main.js');
}

/** One timed run: wall seconds and the CPU seconds (user + sys) of the process and its threads. */
interface Run {
  readonly wall: number;
  readonly user: number;
  readonly sys: number;
}

const TIME_FILE = path.join(os.tmpdir(), `ow-bench-verify-time-${process.pid}`);
process.once('exit', () => fs.rmSync(TIME_FILE, { force: true }));

/** Runs a command under /usr/bin/time; throws unless it exits 0. Returns its stdout and times. */
function timed(command: string, argv: readonly string[]): Run & { stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', TIME_FILE, command, ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    env: nixEnv(),
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${argv.slice(0, 4).join(' ')} … exited ${result.status}: ${result.stderr.slice(-2000)}`);
  const [wall, user, sys] = fs.readFileSync(TIME_FILE, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  return { wall, user, sys, stdout: result.stdout };
}

const CLI_MAIN = cliMain();

/** Our verify of every lower-DB path, as a user runs it (a child process, start-up included); checks it found nothing. */
function runOurs(store: BenchStore, threads: number | 'default'): Run & { threadsUsed: number } {
  const run = timed(process.execPath, [
    CLI_MAIN,
    'verify',
    '--lower',
    '--json',
    ...(threads === 'default' ? [] : ['--threads', String(threads)]),
    '--store',
    store.storeUrl,
  ]);
  const report = JSON.parse(run.stdout) as { findings: unknown[]; result: { checked: number; planned: number; threads: number } };
  if (report.findings.length > 0 || report.result.checked !== report.result.planned || report.result.planned !== store.paths)
    throw new Error(`our verify did not check a healthy store cleanly: ${run.stdout.slice(0, 2000)}`);
  return { ...run, threadsUsed: report.result.threads };
}

function runNix(store: BenchStore): Run {
  return timed('nix-store', ['--store', store.lowerRoot, '--verify', '--check-contents']);
}

/**
 * Reads every file of the store once, so the next timed run finds it all in the page cache. Before each warm run,
 * not once: a kernel with proactive reclaim (DAMON's `pageout` scheme: pages idle for about a minute are written out)
 * empties the cache between rounds, and a "warm" run would then read from disk.
 */
function warmPageCache(store: BenchStore): void {
  const r = spawnSync('sh', [
    '-c',
    'find "$1" -type f -print0 | xargs -0 -r -n 500 -P "$2" cat > /dev/null',
    'warm',
    path.join(store.lowerRoot, 'nix/store'),
    String(cores),
  ]);
  if (r.status !== 0) throw new Error(`reading the store into the page cache failed: ${String(r.stderr)}`);
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

/**
 * One core's SHA-256 cost per byte (best of three over 256 MiB, in this process: OpenSSL, as Nix's). Both tools pay it
 * for every NAR byte; what a run costs beyond it, per entry, is what the walk, the framing and the system calls cost.
 */
const SHA256_SECONDS_PER_BYTE = ((): number => {
  const block = Buffer.alloc(MiB, 1);
  let bestSeconds = Infinity;
  for (let i = 0; i < 3; i++) {
    const before = process.cpuUsage();
    const hash = createHash('sha256');
    for (let n = 0; n < 256; n++) hash.update(block);
    hash.digest();
    const used = process.cpuUsage(before);
    bestSeconds = Math.min(bestSeconds, (used.user + used.system) / 1e6);
  }
  return bestSeconds / (256 * MiB);
})();

const best = (xs: readonly number[]): number => Math.min(...xs);
function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A row of the table: one tool's runs in one cell (shape × cache state). */
interface Row {
  readonly label: string;
  readonly threads: number | 'default' | 'nix';
  readonly runs: Array<Run & { threadsUsed?: number }>;
}

/** Rounds alternating Nix and every variant, `prepare` (fill or empty the page cache) before every timed run. */
function cell(store: BenchStore, n: number, prepare: (store: BenchStore) => void): Row[] {
  const rows: Row[] = [
    { label: 'nix-store --verify --check-contents', threads: 'nix', runs: [] },
    ...variants.map((t) => ({ label: t === 'default' ? 'verify (default threads)' : `verify --threads ${t}`, threads: t, runs: [] })),
  ];
  for (let round = 0; round < n; round++) {
    for (const row of rows) {
      prepare(store);
      const run = row.threads === 'nix' ? runNix(store) : runOurs(store, row.threads);
      row.runs.push(run);
      // Progress on stderr, so a long run shows it is moving and the table on stdout stays clean.
      process.stderr.write(`  round ${round + 1}/${n}  ${row.label.padEnd(36)} ${run.wall.toFixed(2)} s wall, ${(run.user + run.sys).toFixed(2)} s CPU\n`);
    }
  }
  return rows;
}

interface Verdict {
  readonly what: string;
  readonly ok: boolean;
}

/** Prints one cell's table and returns its acceptance checks (issue 16). */
function report(store: BenchStore, title: string, rows: readonly Row[], coldCell: boolean): Verdict[] {
  const nix = rows[0]!;
  const nixWall = median(nix.runs.map((r) => r.wall));
  const nixCpu = median(nix.runs.map((r) => r.user + r.sys));
  console.log(`\n${store.shape.name}, ${title}`);
  console.log(`  ${''.padEnd(36)} wall median   best  x Nix (median) | user+sys median (user, sys)  x Nix's CPU | µs/entry beyond SHA-256 | threads used`);
  for (const row of rows) {
    const wall = row.runs.map((r) => r.wall);
    const cpu = row.runs.map((r) => r.user + r.sys);
    const [user, sys] = [median(row.runs.map((r) => r.user)), median(row.runs.map((r) => r.sys))];
    const used = row.runs.map((r) => r.threadsUsed).filter((t) => t !== undefined);
    console.log(
      `  ${row.label.padEnd(36)} ${median(wall).toFixed(2).padStart(8)} s ${best(wall).toFixed(2).padStart(6)}  ${(nixWall / median(wall)).toFixed(2).padStart(5)}x        | ${median(cpu).toFixed(2).padStart(6)} s (${user.toFixed(2)}, ${sys.toFixed(2)})  ${(median(cpu) / nixCpu).toFixed(2).padStart(5)}x     | ${(((median(cpu) - store.narBytes * SHA256_SECONDS_PER_BYTE) / store.entries) * 1e6).toFixed(2).padStart(12)}            | ${used.length > 0 ? [...new Set(used)].join('/') : ''}`,
    );
  }
  const verdicts: Verdict[] = [];
  const def = rows.find((r) => r.threads === 'default');
  const fixed = rows.filter((r) => typeof r.threads === 'number');
  if (def !== undefined) {
    const speedup = nixWall / median(def.runs.map((r) => r.wall));
    const target = coldCell ? 2.5 : 1.7;
    verdicts.push({ what: `${store.shape.name} ${title}: default ${speedup.toFixed(2)}x Nix (target >= ${target}x)`, ok: speedup >= target });
    if (fixed.length > 0) {
      const bestFixed = fixed.reduce((a, b) => (median(a.runs.map((r) => r.wall)) <= median(b.runs.map((r) => r.wall)) ? a : b));
      const ratio = median(def.runs.map((r) => r.wall)) / median(bestFixed.runs.map((r) => r.wall));
      verdicts.push({
        what: `${store.shape.name} ${title}: default at ${(ratio * 100).toFixed(0)}% of the best fixed (${bestFixed.label}) (target <= 105%)`,
        ok: ratio <= 1.05,
      });
    }
  }
  const one = rows.find((r) => r.threads === 1);
  if (one !== undefined && !coldCell) {
    const cpu = median(one.runs.map((r) => r.user + r.sys));
    verdicts.push({ what: `${store.shape.name} ${title}: --threads 1 CPU ${cpu.toFixed(2)} s, Nix's ${nixCpu.toFixed(2)} s (target <=)`, ok: cpu <= nixCpu });
  }
  return verdicts;
}

const verdicts: Verdict[] = [];
const canDrop = !args['skip-cold'] && dropCaches();
console.log(
  `${cores} cores; SHA-256 on one core ${(1 / SHA256_SECONDS_PER_BYTE / MiB).toFixed(0)} MiB/s; overlay-warden ${path.relative(PROJECT, CLI_MAIN)}, default threads: ${cores} while reads are served from the page cache, up to ${hashingThreads('auto', cores)} while they go to storage; ${rounds} warm and ${canDrop ? coldRounds : 0} cold rounds`,
);
for (const shape of shapes) {
  const store = benchStore(shape, process.env.OVERLAY_WARDEN_BENCH_DIR ?? '/var/tmp/overlay-warden-bench', args.rebuild);
  console.log(
    `\nstore ${shape.name} (${shape.summary}): ${store.paths} paths, ${store.entries} entries, ${(store.narBytes / MiB).toFixed(0)} MiB of NAR, at ${store.lowerRoot}`,
  );
  // One untimed run of each first (start-up caches, the DBs).
  warmPageCache(store);
  runNix(store);
  runOurs(store, 'default');
  verdicts.push(...report(store, `warm page cache (read again before each run), ${rounds} rounds`, cell(store, rounds, warmPageCache), false));
  if (args['skip-cold']) continue;
  if (!canDrop) {
    console.log('\ncold page cache: skipped (writing /proc/sys/vm/drop_caches needs root)');
    continue;
  }
  verdicts.push(...report(store, `cold page cache (caches dropped before each run), ${coldRounds} rounds`, cell(store, coldRounds, dropCaches), true));
}
console.log('\nissue 16 acceptance (medians):');
for (const v of verdicts) console.log(`  ${v.ok ? 'PASS' : 'FAIL'}  ${v.what}`);
