/**
 * Benchmark: the agent's HTTP endpoints under load, and its idle cost with HTTP on. `/healthz` p50/p99 over N
 * requests while `overlay-warden verify --lower` (a separate process, its worker pool on every core) hashes a
 * generated store of many paths, over and over; then the agent's idle CPU and RSS.
 */
// Usage: npm run bench:http [-- --requests N] [--idle-seconds N] [--paths N] [--rebuild]
// Cache: $OVERLAY_WARDEN_BENCH_DIR or /var/tmp/overlay-warden-bench, then http/<FIXTURE_VERSION>-<paths>.
// Targets (issue 12): /healthz p99 < 100 ms while verify saturates the pool; idle CPU < 1 % of a core.
// The agent runs as the tests run it (test/support/agent-child.ts: a Nix fixture store in a private mount namespace,
// `run` from the .ts sources); alert sinks belong to another service and are on only once it is merged in.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentScenario } from '../test/support/agent-child.ts';
import { freePort } from '../test/support/free-port.ts';
import { WebhookReceiver } from '../test/support/webhook-receiver.ts';
import { nixEnv } from '../test/support/nix-kit.ts';
import { benchCliMain } from './built-cli.ts';

const FIXTURE_VERSION = 'http-bench-v1';
const MiB = 1 << 20;
const TARGETS = { p99Ms: 100, idleCpuPercent: 1 };
const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    'idle-seconds': { type: 'string', default: '30' },
    paths: { type: 'string', default: '200' },
    rebuild: { type: 'boolean', default: false },
  },
});
const requests = Number(args.requests);
const idleSeconds = Number(args['idle-seconds']);
const paths = Number(args.paths);
for (const [name, value] of Object.entries({ requests, idleSeconds, paths })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}
const log = (line: string): void => console.log(line);
const cacheDir = path.join(process.env['OVERLAY_WARDEN_BENCH_DIR'] ?? '/var/tmp/overlay-warden-bench', 'http', `${FIXTURE_VERSION}-${paths}`);
const lowerRoot = path.join(cacheDir, 'lower');
const mergedRoot = path.join(cacheDir, 'merged');
const upperLayer = path.join(cacheDir, 'upper');
const marker = path.join(cacheDir, 'complete');
const storeUrl = `local-overlay://?root=${mergedRoot}&lower-store=${encodeURIComponent(`${lowerRoot}?read-only=true`)}&upper-layer=${upperLayer}`;

/** A lower store of `paths` single-file paths of 1 to 3 MiB of random bytes (hashing work that no cache shortens). */
function buildStore(): void {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const src = path.join(cacheDir, 'src');
  fs.mkdirSync(src, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < paths; i++) {
    const file = path.join(src, `blob-${i}.bin`);
    fs.writeFileSync(file, randomBytes(MiB * (1 + (i % 3))));
    files.push(file);
  }
  for (let i = 0; i < files.length; i += 100) run('nix-store', ['--store', lowerRoot, '--add', ...files.slice(i, i + 100)]);
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(upperLayer, { recursive: true });
  fs.mkdirSync(path.join(mergedRoot, 'nix/store'), { recursive: true });
  run('nix-store', ['--store', mergedRoot, '--verify']);
  fs.writeFileSync(marker, `${paths}\n`);
}

function run(command: string, argv: readonly string[]): void {
  const result = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 64 * MiB, env: nixEnv() });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${argv.slice(0, 4).join(' ')} … exited ${result.status}: ${result.stderr.slice(-2000)}`);
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'NaN');
  return { cpuSeconds: ticks / 100, rssBytes: rssKb * 1024 };
}

/** CPU (% of a core) and RSS of `pid` over `seconds`, calling `tick` every 15 s meanwhile (a scrape). */
async function idleUsage(pid: number, seconds: number, tick: () => void): Promise<{ cpuPercent: number; rssMiB: number }> {
  const before = processUsage(pid);
  const timer = setInterval(tick, 15_000);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(timer);
  const after = processUsage(pid);
  return { cpuPercent: ((after.cpuSeconds - before.cpuSeconds) / ((performance.now() - started) / 1000)) * 100, rssMiB: after.rssBytes / MiB };
}

/** Times `count` GETs of `url`, one after another; milliseconds each, sorted. */
async function timeRequests(url: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    times.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  }
  return times.sort((a, b) => a - b);
}

log(
  `machine: ${os.availableParallelism()} cores, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, Node ${process.version}`,
);
if (args.rebuild || !fs.existsSync(marker)) {
  log(`building the verify fixture: ${paths} paths of 1-3 MiB in ${cacheDir}`);
  buildStore();
}
const cli = benchCliMain(false);
const scenario = await AgentScenario.create();
const verifiers: ChildProcess[] = [];
let stopping = false;
let receiver: WebhookReceiver | undefined;
try {
  // Reference: the same agent with HTTP off, idle, so the cost of HTTP and metrics shows apart from the machine's load.
  scenario.writeConfig({ http: { address: 'off' } });
  const plain = await scenario.startAgent();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const reference = await idleUsage(plain.pid, idleSeconds, () => undefined);
  await plain.stop();
  log(`reference: idle over ${idleSeconds} s with HTTP off: CPU ${reference.cpuPercent.toFixed(2)} % of a core, RSS ${reference.rssMiB.toFixed(1)} MiB`);

  const address = `127.0.0.1:${await freePort()}`;
  // Sinks on, as an operator runs it: a webhook (a receiver in this process) gets every alert.
  receiver = await WebhookReceiver.start();
  scenario.writeConfig({ http: { address }, alerts: { webhooks: [{ url: receiver.url }] } });
  const agent = await scenario.startAgent();
  const base = `http://${address}`;
  await timeRequests(`${base}/healthz`, 10);

  // Load: verify of the whole lower store, restarted whenever it ends, until the requests are done.
  let verifyRuns = 0;
  const startVerify = (): void => {
    const child = spawn(process.execPath, [cli, 'verify', '--lower', '--json', '--store', storeUrl], { stdio: 'ignore', env: nixEnv() });
    verifiers.push(child);
    child.on('exit', () => {
      verifyRuns++;
      if (!stopping) startVerify();
    });
  };
  startVerify();
  // Let the pool spin up (a verify's start-up and first batches) before measuring.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const loadBefore = os.loadavg()[0]!;
  const healthz = await timeRequests(`${base}/healthz`, requests);
  const metrics = await timeRequests(`${base}/metrics`, Math.min(requests, 50));
  stopping = true;
  for (const child of verifiers) child.kill('SIGTERM');
  log(`load: overlay-warden verify --lower over ${paths} paths, ${verifyRuns} run(s) completed meanwhile; load average ${loadBefore.toFixed(2)}`);
  const p99 = percentile(healthz, 99);
  log(
    `/healthz over ${requests} requests while verifying: p50 ${percentile(healthz, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${healthz.at(-1)!.toFixed(2)} ms (target p99 < ${TARGETS.p99Ms} ms: ${p99 < TARGETS.p99Ms ? 'met' : 'MISSED'})`,
  );
  log(`/metrics over ${metrics.length} requests while verifying: p50 ${percentile(metrics, 50).toFixed(2)} ms, p99 ${percentile(metrics, 99).toFixed(2)} ms`);

  // Idle: no verify, HTTP on, one scrape every 15 s as Prometheus would.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const { cpuPercent, rssMiB } = await idleUsage(agent.pid, idleSeconds, () => void fetch(`${base}/metrics`).then((r) => r.arrayBuffer()));
  log(
    `idle over ${idleSeconds} s with HTTP and a webhook sink on (a /metrics scrape every 15 s): CPU ${cpuPercent.toFixed(2)} % of a core (target < ${TARGETS.idleCpuPercent} %: ${cpuPercent < TARGETS.idleCpuPercent ? 'met' : 'MISSED'}), RSS ${rssMiB.toFixed(1)} MiB`,
  );
  await agent.stop();
} finally {
  stopping = true;
  for (const child of verifiers) child.kill('SIGKILL');
  await scenario.close();
  await receiver?.close();
}
