/**
 * Benchmark: lower-store metadata through a real nix-daemon (Debian's Nix 2.8 `nix-daemon --store ROOT`) against the
 * same DB read with SQLite, on a demo store with a 20,000-path lower store, in one run.
 *  - metadata load: the daemon client's QueryAllValidPaths + QueryPathInfo of every path (queryPathInfos, on one
 *    connection and split over several) against readNixDb's full read of the lower DB (every row and every
 *    reference edge); microseconds per path for both, and the ratio.
 *  - the audit (runAudit in-process, as `overlay-warden audit` runs it) of the same overlay store with its lower
 *    store given as its DB (`lower-store=ROOT?read-only=true`) and as the daemon's socket (`unix:///SOCK?real=…`,
 *    no DB file): issue 15's target is the daemon within 3x of SQLite. Both must find the same.
 * Every figure: median and best of --runs, the daemon and SQLite runs interleaved so both see the same machine load.
 */
// Usage: npm run bench:daemon [-- [--rebuild] [--runs N] [--connections N,M]]. --connections: the client option tried (default 1,2).
// Cache: $OVERLAY_WARDEN_BENCH_DIR or /var/tmp/overlay-warden-bench, then daemon/<FIXTURE_VERSION>.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDemoStore } from '../agent/demo/store-builder.ts';
import { runAudit } from '../agent/audit/index.ts';
import { parseStoreUrl, percentEncode, readNixDb, resolveStoreLayout, type PathInfo, type StoreLayout } from '../agent/store/index.ts';
import { connectDaemon, type DaemonPathInfo } from '../agent/store/daemon/index.ts';
import { nixEnv } from '../test/support/nix-kit.ts';
import { startNixDaemon } from '../test/support/nix-daemon.ts';

/** Bump when the demo store changes (builder options or the builder itself): the cache is keyed by it. */
const FIXTURE_VERSION = 'daemon-bench-v1';
const LOWER_PATHS = 20_000;
const UPPER_PATHS = 2_000;
const DUPLICATES = 200;
const TARGET_RATIO = 3;

const { values: args } = parseArgs({
  options: {
    rebuild: { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    connections: { type: 'string', default: '1,2' },
  },
});
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a positive whole number, got '${args.runs}'`);
const connectionCounts = args.connections.split(',').map(Number);
if (!connectionCounts.every((n) => Number.isInteger(n) && n >= 1)) throw new Error(`--connections takes positive whole numbers, got '${args.connections}'`);
const cacheDir = path.join(process.env.OVERLAY_WARDEN_BENCH_DIR ?? '/var/tmp/overlay-warden-bench', 'daemon', FIXTURE_VERSION);
const marker = path.join(cacheDir, 'complete.json');

interface Fixture {
  readonly storeUrl: string;
  readonly lowerRoot: string;
  readonly lowerDb: string;
  readonly storeDir: string;
  readonly lowerRegistrations: number;
  readonly duplicates: number;
}

async function build(): Promise<Fixture> {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  const store = await buildDemoStore(path.join(cacheDir, 'store'), {
    lowerPaths: LOWER_PATHS,
    upperPaths: UPPER_PATHS,
    duplicates: DUPLICATES,
    contents: 'mostly-files',
  });
  const fixture: Fixture = {
    storeUrl: store.storeUrl,
    lowerRoot: store.lower.root,
    lowerDb: store.lower.db,
    storeDir: store.storeDir,
    lowerRegistrations: store.lower.paths.length,
    duplicates: store.upper.duplicates.length,
  };
  fs.writeFileSync(marker, `${JSON.stringify({ version: FIXTURE_VERSION, seconds: store.seconds, ...fixture })}\n`);
  console.log(`built in ${store.seconds.toFixed(1)} s`);
  return fixture;
}

/** The SQLite side: every ValidPaths row and every reference edge of the lower DB, references grouped by path. */
function readAllFromDb(fixture: Fixture): Map<string, PathInfo> {
  return readNixDb(fixture.lowerDb, { immutable: true, storeDir: fixture.storeDir }, (db) => {
    const infos = new Map<string, PathInfo>();
    const references = new Map<string, string[]>();
    for (const row of db.iterateValidPaths()) infos.set(row.path, { ...row, references: [] });
    for (const edge of db.iterateReferences()) {
      const list = references.get(edge.referrer);
      if (list === undefined) references.set(edge.referrer, [edge.reference]);
      else list.push(edge.reference);
    }
    for (const [referrer, list] of references) {
      const info = infos.get(referrer);
      if (info !== undefined) infos.set(referrer, { ...info, references: list.sort() });
    }
    return infos;
  });
}

/** The daemon side: a client with `connections` connections, every valid path listed, every path's info fetched. */
async function readAllFromDaemon(socket: string, connections: number): Promise<Map<string, DaemonPathInfo>> {
  const client = await connectDaemon(socket, { connections });
  try {
    const paths = await client.queryAllValidPaths();
    const infos = new Map<string, DaemonPathInfo>();
    for (const info of await client.queryPathInfos(paths)) if (info !== undefined) infos.set(info.path, info);
    return infos;
  } finally {
    client.close();
  }
}

function sameMetadata(db: Map<string, PathInfo>, daemon: Map<string, DaemonPathInfo>): string | undefined {
  if (db.size !== daemon.size) return `${db.size} paths in the DB, ${daemon.size} through the daemon`;
  for (const [storePath, row] of db) {
    const info = daemon.get(storePath);
    if (info === undefined) return `${storePath} missing through the daemon`;
    const { id: _id, ...fromDb } = row;
    if (JSON.stringify(fromDb) !== JSON.stringify(info)) return `${storePath}: DB ${JSON.stringify(fromDb)} vs daemon ${JSON.stringify(info)}`;
  }
  return undefined;
}

interface Timing {
  readonly ms: number[];
  /** CPU of this process (all its threads), ms per run. */
  readonly cpuMs: number[];
  /** CPU of the daemon's workers for the run, ms per run (0 for runs without the daemon). */
  readonly daemonCpuMs: number[];
}

const timing = (): Timing => ({ ms: [], cpuMs: [], daemonCpuMs: [] });

/** CPU the daemon's exited workers used so far, in ms: its children's time (cutime + cstime, in 1/100 s ticks). */
function daemonWorkersCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** Until the daemon has reaped the workers of the connections just closed (their CPU is counted then). */
async function workersGone(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (spawnSync('pgrep', ['-P', String(pid)]).status !== 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function timed(into: Timing, action: () => unknown, daemonPid?: number): Promise<void> {
  const daemonBefore = daemonPid === undefined ? 0 : daemonWorkersCpuMs(daemonPid);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await action();
  into.ms.push(performance.now() - started);
  const cpu = process.cpuUsage(cpuBefore);
  into.cpuMs.push((cpu.user + cpu.system) / 1000);
  if (daemonPid !== undefined) await workersGone(daemonPid);
  into.daemonCpuMs.push(daemonPid === undefined ? 0 : daemonWorkersCpuMs(daemonPid) - daemonBefore);
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const best = (values: readonly number[]): number => Math.min(...values);

let fixture: Fixture;
if (args.rebuild || !fs.existsSync(marker)) {
  console.log(`building the demo store under ${cacheDir} …`);
  fixture = await build();
} else {
  fixture = JSON.parse(fs.readFileSync(marker, 'utf8')) as Fixture;
}
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bench-daemon-'));
const daemon = await startNixDaemon(fixture.lowerRoot, scratch);
try {
  // Nix's own client through the same daemon: the demo builder's DB is one Nix 2.8 serves.
  const listed = spawnSync('nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--store', `unix://${daemon.socket}`, '--all'], {
    encoding: 'utf8',
    env: nixEnv(),
    maxBuffer: 1 << 28,
  });
  const nixCount = listed.stdout.split('\n').filter((line) => line !== '').length;
  if (listed.status !== 0 || nixCount !== fixture.lowerRegistrations) {
    throw new Error(`nix path-info through the daemon listed ${nixCount} paths (exit ${listed.status}): ${listed.stderr.slice(-2000)}`);
  }
  const hello = await connectDaemon(daemon.socket);
  console.log(
    `lower store: ${fixture.lowerRegistrations} paths, served by nix-daemon ${hello.hello.nixVersion ?? '?'} (protocol 1.${hello.hello.version.minor}); ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  hello.close();
  // Warm-up (page cache, JIT) and the check that both sources say the same about every path.
  const mismatch = sameMetadata(readAllFromDb(fixture), await readAllFromDaemon(daemon.socket, 1));
  if (mismatch !== undefined) throw new Error(`the daemon and the DB disagree: ${mismatch}`);
  const sqliteLayout = resolveStoreLayout(parseStoreUrl(fixture.storeUrl));
  // The same overlay store with its lower store named by the daemon's socket and its store dir only (no DB file).
  const daemonUrl = fixture.storeUrl.replace(
    /lower-store=[^&]*/,
    `lower-store=${percentEncode(`unix://${daemon.socket}?real=${path.join(fixture.lowerRoot, 'nix/store')}`)}`,
  );
  const daemonLayout = resolveStoreLayout(parseStoreUrl(daemonUrl));
  if (daemonLayout.lower.daemonSocket !== daemon.socket || daemonLayout.lower.db !== undefined) throw new Error(`not a daemon lower store: ${daemonUrl}`);
  const audit = async (layout: StoreLayout): Promise<string> => {
    const report = await runAudit({ layout, signal: new AbortController().signal });
    if (report.stats.lowerRegistrations !== fixture.lowerRegistrations) throw new Error('the audit did not read every lower registration');
    return report.findings.map((finding) => finding.id).join(',');
  };
  const [sqliteFindings, daemonFindings] = [await audit(sqliteLayout), await audit(daemonLayout)];
  if (sqliteFindings !== daemonFindings)
    throw new Error(`the audits disagree: SQLite ${sqliteFindings.slice(0, 500)} vs daemon ${daemonFindings.slice(0, 500)}`);

  const sqliteLoad = timing();
  const daemonLoad = new Map<number, Timing>(connectionCounts.map((n) => [n, timing()]));
  const sqliteAudit = timing();
  const daemonAudit = timing();
  const pid = daemon.child.pid!;
  for (let r = 0; r < runs; r++) {
    await timed(sqliteLoad, () => readAllFromDb(fixture));
    for (const [connections, t] of daemonLoad) await timed(t, () => readAllFromDaemon(daemon.socket, connections), pid);
    await timed(sqliteAudit, () => audit(sqliteLayout));
    await timed(daemonAudit, () => audit(daemonLayout), pid);
    const line = [...daemonLoad].map(([n, t]) => `daemon ×${n} ${t.ms.at(-1)!.toFixed(0)} ms`).join(', ');
    console.log(
      `run ${r + 1}: load: SQLite ${sqliteLoad.ms.at(-1)!.toFixed(0)} ms, ${line}; audit: SQLite ${sqliteAudit.ms.at(-1)!.toFixed(0)} ms, daemon ${daemonAudit.ms.at(-1)!.toFixed(0)} ms`,
    );
  }
  const perPath = (ms: number): string => `${((ms * 1000) / fixture.lowerRegistrations).toFixed(1)} us/path`;
  const us = (ms: number): string => ((ms * 1000) / fixture.lowerRegistrations).toFixed(1);
  const row = (label: string, t: Timing): string =>
    `${label.padEnd(38)} median ${median(t.ms).toFixed(0).padStart(5)} ms (${perPath(median(t.ms))}), best ${best(t.ms).toFixed(0).padStart(5)} ms (${perPath(best(t.ms))}); ` +
    `CPU us/path: ours ${us(median(t.cpuMs))}${t.daemonCpuMs.some((ms) => ms > 0) ? `, daemon ${us(median(t.daemonCpuMs))}` : ''}`;
  console.log(`\nmetadata of ${fixture.lowerRegistrations} lower paths, ${runs} runs each:`);
  console.log(row('load: SQLite (readNixDb, rows + refs)', sqliteLoad));
  for (const [connections, t] of daemonLoad) {
    const ratio = median(t.ms) / median(sqliteLoad.ms);
    console.log(`${row(`load: daemon, ${connections} connection${connections > 1 ? 's' : ''}`, t)}; ${ratio.toFixed(1)}x SQLite`);
  }
  console.log(row('audit through SQLite', sqliteAudit));
  console.log(row('audit through the daemon', daemonAudit));
  const ratio = median(daemonAudit.ms) / median(sqliteAudit.ms);
  const bestRatio = best(daemonAudit.ms) / best(sqliteAudit.ms);
  console.log(
    `\naudit through the daemon / through SQLite: median ${ratio.toFixed(2)}x, best ${bestRatio.toFixed(2)}x (target < ${TARGET_RATIO}x: ${ratio < TARGET_RATIO ? 'ok' : 'MISSED'})`,
  );
} finally {
  await daemon.kill();
  fs.rmSync(scratch, { recursive: true, force: true });
}
