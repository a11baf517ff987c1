/**
 * A live agent's `/metrics`: every metric of the catalog (the README's table) is there with its type, the gauges of
 * current state have values, and the real Prometheus scrapes it with the target up.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_METRICS, METRIC_SPECS, type MetricSpec } from '../../agent/metrics/index.ts';
import { AgentScenario, WATCHING, type AgentChild } from '../support/agent-child.ts';
import { freePort } from '../support/free-port.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';
import { waitFor } from '../support/wait-for.ts';

/** Metrics that get values only from events this scenario does not cause (drift, remounts, a second request). */
const EVENT_DRIVEN = new Set([
  'overlay_warden_drift_events_total',
  'overlay_warden_stale_flags_total',
  'overlay_warden_remounts_total',
  'overlay_warden_remount_duration_seconds',
  'overlay_warden_findings',
  'overlay_warden_http_requests_total',
  // Only for a daemon lower store (test/agent/lower-daemon-*.test.ts checks it there).
  'overlay_warden_lower_daemon_up',
  // Scheduled work (an audit or a scrub chunk done) and alert deliveries: none yet right after start.
  'overlay_warden_scheduled_task_duration_seconds',
  'overlay_warden_hashed_bytes_total',
  'overlay_warden_verified_paths_total',
  'overlay_warden_last_completed_timestamp_seconds',
  'overlay_warden_alert_deliveries_total',
]);

/** `name` has a sample line (for a histogram: its _count). */
const hasSample = (exposition: string, spec: Pick<MetricSpec, 'name' | 'type'>): boolean =>
  new RegExp(`^${spec.name}${spec.type === 'histogram' ? '_count' : ''}(\\{[^}]*\\})? `, 'm').test(exposition);

describe('metrics: a live agent, scraped by the real Prometheus', function () {
  let s: AgentScenario | undefined;
  let prometheus: ChildProcess | undefined;
  let target = '';
  let agent: AgentChild | undefined;
  before(async function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'prometheus');
    s = await AgentScenario.create();
    target = `127.0.0.1:${await freePort()}`;
    s.writeConfig({ http: { address: target } });
    agent = await s.startAgent();
  });
  after(async () => {
    prometheus?.kill('SIGKILL');
    await s?.close();
  });

  it('golden: every metric of the README table is on /metrics with its type; state gauges have values', async () => {
    const text = await (await fetch(`http://${target}/metrics`)).text();
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const spec of [...METRIC_SPECS, ...DEFAULT_METRICS]) {
      assert.equal(types.get(spec.name), spec.type, `${spec.name}: type on a live agent`);
      if (EVENT_DRIVEN.has(spec.name)) continue;
      assert.ok(hasSample(text, spec), `${spec.name} has no value on a live agent\n${text}`);
    }
    assert.match(text, /^overlay_warden_mount_valid 1$/m);
    assert.match(text, /^overlay_warden_remount_needed 0$/m);
    assert.match(text, /^overlay_warden_lower_store_paths [1-9]\d*$/m);
    // No overlay_warden_ metric outside the catalog (a metric added must be declared, and so listed in the README).
    const catalog = new Set(METRIC_SPECS.map((m) => m.name));
    for (const name of types.keys()) if (name.startsWith('overlay_warden_')) assert.ok(catalog.has(name), `${name} is not in the catalog`);
  });

  it('counters go on across a SIGHUP reload (one registry per process)', async () => {
    const served = async (): Promise<number> => {
      const text = await (await fetch(`http://${target}/metrics`)).text();
      return Number(/^overlay_warden_http_requests_total\{route="\/metrics",code="200"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    await served();
    const before = await served();
    assert.ok(before >= 1);
    const from = agent!.log.length;
    agent!.child.kill('SIGHUP');
    await agent!.waitForLog((l) => WATCHING.test(l.message), 'the reloaded agent to watch', { from });
    assert.ok((await served()) > before, 'the count went on from where it was');
  });

  it('Prometheus scrapes it: the target is up and overlay_warden_info is queryable', async () => {
    const dir = path.join(s!.fixture.dir, 'prometheus');
    fs.mkdirSync(dir);
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: overlay-warden\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const web = `127.0.0.1:${await freePort()}`;
    let log = '';
    prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=${web}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prometheus.stderr!.on('data', (d: Buffer) => (log += String(d)));
    const api = async <T>(query: string): Promise<T | undefined> => {
      try {
        return ((await (await fetch(`http://${web}/api/v1/${query}`)).json()) as { data: T }).data;
      } catch {
        return undefined;
      }
    };
    type Targets = { activeTargets: Array<{ health: string; scrapeUrl: string; lastError: string }> };
    const up = await waitFor(async () => (await api<Targets>('targets'))?.activeTargets.find((t) => t.health === 'up'), 'the target to be up', {
      timeoutMs: 60_000,
      intervalMs: 250,
      describe: () => log.slice(-3000),
    });
    assert.equal(up.scrapeUrl, `http://${target}/metrics`);
    type Vector = { result: Array<{ metric: Record<string, string> }> };
    const info = await waitFor(async () => (await api<Vector>('query?query=overlay_warden_info'))?.result[0], 'overlay_warden_info in Prometheus');
    assert.equal(info.metric['store_url'], s!.fixture.storeUrl);
    assert.equal(info.metric['job'], 'overlay-warden');
  });
});
