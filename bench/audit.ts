/**
 * Benchmark: `overlay-warden audit` on a demo store with 200,000 upper and 1,000,000 lower registrations (plus the
 * lower metadata the upper DB copies up): wall time and peak RSS of the command, run as users run it.
 * Targets (issue 4): under 10 s, peak RSS under 400 MB.
 */
// Usage: npm run bench:audit [-- [--rebuild] [--runs N] [--sources]]. Runs the CLI as shipped (compiled; see
// built-cli.ts), --sources the .ts files under type stripping (slower start, more memory per thread).
// One untimed run first reads the DBs and directories into the page cache; the runs after it are timed.
// Cache: $OVERLAY_WARDEN_BENCH_DIR or /var/tmp/overlay-warden-bench, then audit/<FIXTURE_VERSION>.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDemoStore } from '../agent/demo/store-builder.ts';
import { benchCliMain, describeCli } from './built-cli.ts';

/** Bump when the demo store changes (builder options or the builder itself): the cache is keyed by it. */
const FIXTURE_VERSION = 'audit-bench-v1';
const UPPER_PATHS = 200_000;
const LOWER_PATHS = 1_000_000;
const DUPLICATES = 2_000;
const TARGET_SECONDS = 10;
const TARGET_RSS_BYTES = 400 * 1000 * 1000;
/** Loaded into the child before the CLI: prints the process's peak RSS (all threads) when it exits. */
const REPORT_MAX_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nmaxRSS-kB '+process.resourceUsage().maxRSS+'\\n'))`;

const { values: args } = parseArgs({
  options: { rebuild: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' }, sources: { type: 'boolean', default: false } },
});
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a positive whole number, got '${args.runs}'`);
const cacheDir = path.join(process.env.OVERLAY_WARDEN_BENCH_DIR ?? '/var/tmp/overlay-warden-bench', 'audit', FIXTURE_VERSION);
const marker = path.join(cacheDir, 'complete.json');

interface Fixture {
  readonly storeUrl: string;
  readonly upperRegistrations: number;
  readonly lowerRegistrations: number;
  readonly duplicates: number;
}

async function build(): Promise<Fixture> {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  let last = 0;
  const store = await buildDemoStore(path.join(cacheDir, 'store'), {
    lowerPaths: LOWER_PATHS,
    upperPaths: UPPER_PATHS,
    duplicates: DUPLICATES,
    contents: 'mostly-files',
    onProgress: ({ phase, done, total }) => {
      if (performance.now() - last < 10_000 && done !== total) return;
      last = performance.now();
      console.log(`  ${phase}: ${done}/${total}`);
    },
  });
  const fixture: Fixture = {
    storeUrl: store.storeUrl,
    upperRegistrations: store.upper.paths.length + store.upper.copiedUp.length,
    lowerRegistrations: store.lower.paths.length,
    duplicates: store.upper.duplicates.length,
  };
  fs.writeFileSync(marker, `${JSON.stringify({ version: FIXTURE_VERSION, seconds: store.seconds, ...fixture })}\n`);
  console.log(`built in ${store.seconds.toFixed(0)} s`);
  return fixture;
}

interface Run {
  readonly seconds: number;
  readonly maxRssBytes: number;
  readonly findings: number;
  readonly phaseMs: Record<string, number>;
}

function audit(fixture: Fixture): Run {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', REPORT_MAX_RSS, CLI_MAIN, 'audit', '--json', '--store', fixture.storeUrl], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`audit exited ${result.status}: ${result.stderr.slice(-2000)}`);
  const rss = /maxRSS-kB (\d+)/.exec(result.stderr);
  if (rss === null) throw new Error(`no peak RSS reported: ${result.stderr.slice(-2000)}`);
  const report = JSON.parse(result.stdout) as {
    findings: { id: string }[];
    stats: { phaseMs: Record<string, number>; upperRegistrations: number; lowerRegistrations: number };
  };
  if (report.findings.some((f) => f.id !== 'store.duplicate') || report.findings.length !== fixture.duplicates)
    throw new Error('the demo store should yield exactly its duplicates');
  if (report.stats.upperRegistrations !== fixture.upperRegistrations || report.stats.lowerRegistrations !== fixture.lowerRegistrations)
    throw new Error('the audit did not read every registration');
  return { seconds, maxRssBytes: Number(rss[1]) * 1024, findings: report.findings.length, phaseMs: report.stats.phaseMs };
}

let fixture: Fixture;
if (args.rebuild || !fs.existsSync(marker)) {
  console.log(`building the demo store under ${cacheDir} (a few minutes) …`);
  fixture = await build();
} else {
  fixture = JSON.parse(fs.readFileSync(marker, 'utf8')) as Fixture;
}
const CLI_MAIN = benchCliMain(args.sources);
console.log(`CLI ${describeCli(CLI_MAIN)}`);
console.log(
  `demo store: ${fixture.upperRegistrations} upper-DB registrations (${UPPER_PATHS} upper paths + copied-up lower metadata), ${fixture.lowerRegistrations} lower, ${fixture.duplicates} duplicates`,
);
const warmUp = audit(fixture);
console.log(`warm-up run (page cache filling): ${warmUp.seconds.toFixed(2)} s, peak RSS ${(warmUp.maxRssBytes / 1e6).toFixed(0)} MB`);
const results: Run[] = [];
for (let r = 0; r < runs; r++) {
  const run = audit(fixture);
  results.push(run);
  const phases = Object.entries(run.phaseMs)
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)}`)
    .join(', ');
  console.log(`run ${r + 1}: ${run.seconds.toFixed(2)} s, peak RSS ${(run.maxRssBytes / 1e6).toFixed(0)} MB   [${phases}]`);
}
const median = [...results].sort((a, b) => a.seconds - b.seconds)[Math.floor(results.length / 2)]!;
const peak = Math.max(...results.map((r) => r.maxRssBytes));
const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
console.log(
  `\noverlay-warden audit (CLI, start-up included): median ${median.seconds.toFixed(2)} s (target < ${TARGET_SECONDS} s: ${verdict(median.seconds < TARGET_SECONDS)}), peak RSS ${(peak / 1e6).toFixed(0)} MB (target < ${TARGET_RSS_BYTES / 1e6} MB: ${verdict(peak < TARGET_RSS_BYTES)})`,
);
