/** Benchmark: how long the CLI takes to start and finish, built and from the sources, beside `node -e 0` and `nix-store --version`. */
// Usage: npm run bench:cli [-- --runs N]. Runs as root: it mounts a small real overlay store in a private mount namespace.
// Targets (built package, medians): `--help` and `layout` within 60 ms of `node -e 0`, `check` within 100 ms of it.
// It reports; a missed target is printed as MISSED and does not fail the run (the figures swing with the machine's load).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchCliMain, describeCli } from './built-cli.ts';
import { inFreshNamespace } from '../test/support/mount-namespace.ts';
import { nixEnv } from '../test/support/nix-kit.ts';

/** Set in the copy of this script that runs inside the private mount namespace. */
const INSIDE = 'OVERLAY_WARDEN_BENCH_CLI_INSIDE';
const TARGETS: Readonly<Record<string, number>> = { '--help': 60, layout: 60, check: 100 };

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

if (process.env[INSIDE] !== '1') {
  // The overlay is mounted in a namespace of its own, so it vanishes with the benchmark whatever happens to it.
  const [file, ...rest] = inFreshNamespace([process.execPath, ...process.execArgv, import.meta.filename, ...process.argv.slice(2)]);
  const inner = spawnSync(file!, rest, { stdio: 'inherit', env: { ...process.env, [INSIDE]: '1' } });
  process.exitCode = inner.status ?? 1;
} else {
  await benchmark();
}

interface Subject {
  readonly name: string;
  readonly argv: readonly string[];
  /** The key of its target in TARGETS, for the CLI's commands. */
  readonly target?: string;
  /** Exit codes that mean it did what it is measured doing. */
  readonly okCodes: readonly number[];
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A small real local-overlay store, mounted: lower and upper Nix DBs made by Nix, one path in each layer. */
function mountSmallStore(dir: string): string {
  const lowerRoot = path.join(dir, 'lower');
  const mergedRoot = path.join(dir, 'merged');
  const upper = path.join(dir, 'upper');
  const work = path.join(dir, 'work');
  for (const d of [path.join(lowerRoot, 'nix/store'), path.join(mergedRoot, 'nix/store'), upper, work]) fs.mkdirSync(d, { recursive: true });
  const seed = path.join(dir, 'seed.txt');
  fs.writeFileSync(seed, 'bench\n');
  const nix = (root: string): void => {
    const run = spawnSync('nix-store', ['--store', root, '--add', seed], { encoding: 'utf8', env: nixEnv() });
    if (run.status !== 0) throw new Error(`nix-store --add failed: ${run.stderr}`);
  };
  nix(lowerRoot);
  const mount = spawnSync(
    'mount',
    ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerRoot}/nix/store,upperdir=${upper},workdir=${work}`, `${mergedRoot}/nix/store`],
    {
      encoding: 'utf8',
    },
  );
  if (mount.status !== 0) throw new Error(`mounting the overlay failed: ${mount.stderr}`);
  // The upper DB, written by Nix through the merged view as the overlay store would.
  fs.writeFileSync(seed, 'bench upper\n');
  nix(mergedRoot);
  return `local-overlay://?root=${mergedRoot}&lower-store=${encodeURIComponent(lowerRoot)}&upper-layer=${upper}`;
}

async function benchmark(): Promise<void> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bench-cli-')));
  try {
    const store = mountSmallStore(dir);
    const built = benchCliMain(false);
    const sources = benchCliMain(true);
    const node = process.execPath;
    const cli = (main: string, from: string): Subject[] => [
      { name: `--help (${from})`, argv: [node, main, '--help'], target: from === 'built' ? '--help' : undefined, okCodes: [0] },
      { name: `layout (${from})`, argv: [node, main, 'layout', '--store', store], target: from === 'built' ? 'layout' : undefined, okCodes: [0] },
      { name: `check (${from})`, argv: [node, main, 'check', '--store', store], target: from === 'built' ? 'check' : undefined, okCodes: [0] },
    ];
    const subjects: Subject[] = [
      { name: 'node -e 0', argv: [node, '-e', '0'], okCodes: [0] },
      { name: 'nix-store --version', argv: ['nix-store', '--version'], okCodes: [0] },
      ...cli(built, 'built'),
      ...cli(sources, 'sources'),
    ];
    console.log(
      `machine: ${os.availableParallelism()} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, Node ${process.version}`,
    );
    console.log(`built CLI: ${describeCli(built)}; sources: ${describeCli(sources)}; store: ${store}`);
    // One run each first: what it prints when it fails, and the exit code, so a broken command is not timed as fast.
    for (const s of subjects) {
      const run = spawnSync(s.argv[0]!, s.argv.slice(1), { encoding: 'utf8', cwd: dir, env: nixEnv() });
      if (!s.okCodes.includes(run.status ?? -1)) {
        console.error(`${s.name} exited ${run.status ?? run.signal}:\n${run.stdout}${run.stderr}`);
        process.exitCode = 1;
        return;
      }
    }
    // Round-robin: each round runs every subject once, so a burst of load elsewhere falls on all of them alike.
    const samples = new Map<Subject, number[]>(subjects.map((s) => [s, []]));
    for (let round = 0; round < runs; round++) {
      for (const s of subjects) {
        const started = performance.now();
        spawnSync(s.argv[0]!, s.argv.slice(1), { stdio: 'ignore', cwd: dir, env: nixEnv() });
        samples.get(s)!.push(performance.now() - started);
      }
    }
    const base = median(samples.get(subjects[0]!)!);
    console.log(`\nmedians of ${runs} runs (round-robin), and the difference from node -e 0:`);
    for (const s of subjects) {
      const ms = median(samples.get(s)!);
      const limit = s.target === undefined ? undefined : TARGETS[s.target];
      const verdict = limit === undefined ? '' : `  [target +${limit} ms: ${ms - base <= limit ? 'met' : 'MISSED'}]`;
      console.log(`  ${s.name.padEnd(22)} ${ms.toFixed(1).padStart(7)} ms  ${(ms - base >= 0 ? '+' : '') + (ms - base).toFixed(1).padStart(6)} ms${verdict}`);
    }
  } finally {
    spawnSync('umount', ['-l', path.join(dir, 'merged/nix/store')]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
