/**
 * The agent over an overlay whose lower store is served by a real Nix 2.8 nix-daemon
 * (`lower-store=unix:///SOCK?real=ROOT/nix/store`: no lower DB file is read). Real Nix registers and deletes a lower
 * path while the daemon serves the store: drift. The daemon killed: status says it is down with the error, the alert
 * fires, /metrics says 0, the agent keeps running; restarted on the same socket: up again, the alert resolved. A fake
 * peer on the socket that hangs, then one that answers garbage: the typed error in status, the agent alive.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AgentStatus } from '../../agent/agent.ts';
import { baselineFileOf, loadBaseline } from '../../agent/baseline/index.ts';
import { AgentScenario, driftLine, runCli, type AgentChild, type LogLine } from '../support/agent-child.ts';
import { freePort } from '../support/free-port.ts';
import { startNixDaemon, type RunningNixDaemon } from '../support/nix-daemon.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';
import { socketServer } from '../support/fake-daemon-peer.ts';

const UNAVAILABLE = 'OverlayWardenLowerDaemonUnavailable';
const daemonState = (st: AgentStatus): string | undefined => st.lowerDaemon?.state;
const firing = (st: AgentStatus): string[] => ((st.alerts as { firing?: { alertname: string }[] } | undefined)?.firing ?? []).map((a) => a.alertname);
const daemonHealth = (type: string) => (line: LogLine) => line['event'] === type && line['watcher'] === 'lower-daemon';

describe('agent: a nix-daemon lower store (drift, outage, reconnect, faulty peers)', function () {
  let s: AgentScenario | undefined;
  let daemon: RunningNixDaemon | undefined;
  let agent: AgentChild;
  let socket: string;
  let metricsUrl: string;
  let added: string;

  const metric = async (): Promise<string | undefined> => /^overlay_warden_lower_daemon_up (\d)$/m.exec(await (await fetch(metricsUrl)).text())?.[1];

  /** A daemon on the socket again (the killed one left its socket file, which startNixDaemon would take for the new one's). */
  const restartDaemon = async (): Promise<void> => {
    fs.rmSync(socket, { force: true });
    daemon = await startNixDaemon(s!.fixture.lowerRoot, s!.fixture.dir);
  };

  before(async function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'nix-daemon');
    s = await AgentScenario.create();
    daemon = await startNixDaemon(s.fixture.lowerRoot, s.fixture.dir);
    socket = daemon.socket;
    const f = s.fixture;
    const lower = `unix://${socket}?real=${f.lowerStoreDir}`;
    const address = `127.0.0.1:${await freePort()}`;
    metricsUrl = `http://${address}/metrics`;
    s.writeConfig({
      store: { url: `local-overlay://?root=${f.mergedRoot}&lower-store=${encodeURIComponent(lower)}&upper-layer=${f.upperLayer}` },
      http: { address },
      watch: { daemonPollMs: 300, daemonTimeoutMs: 1500 },
    });
    agent = await s.startAgent();
  });
  after(async () => {
    await daemon?.kill();
    await s?.close();
  });

  it('starts with the daemon up: status names its socket, protocol and Nix version; the baseline records its identity', async () => {
    const st = await s!.waitForStatus((x) => daemonState(x) === 'up', 'the lower daemon up in status', agent);
    assert.equal(st.lowerDaemon?.socket, socket);
    assert.match(st.lowerDaemon?.protocol ?? '', /^1\.\d+$/);
    assert.match(st.lowerDaemon?.nixVersion ?? '', /^2\.8/);
    assert.ok((st.lowerDaemon?.validPaths ?? 0) > 0);
    assert.ok(st.watchers.some((w) => w.watcher === 'lower-daemon' && w.state === 'up'));
    assert.equal(
      st.watchers.some((w) => w.watcher === 'lower-db'),
      false,
      'no lower DB file is watched',
    );
    assert.equal(await metric(), '1');
    const saved = loadBaseline(baselineFileOf(s!.stateDir))!;
    assert.equal(saved.db, null);
    assert.equal(saved.daemon?.socket, socket);
    assert.equal(saved.daemon?.validPaths, st.lowerDaemon?.validPaths);
  });

  it('a path registered in the lower store by real Nix while the daemon serves it is lower-daemon-modified drift', async () => {
    const before = (await s!.status()).lowerDaemon!.validPaths!;
    const from = agent.log.length;
    added = s!.fixture.unmounted('d=$(mktemp -d); echo added-under-the-daemon > "$d/file"; nix-store --store "$A" --add "$d"; rm -rf "$d"').trim();
    const line = await agent.waitForLog(driftLine('lower-daemon-modified'), 'lower-daemon-modified after the add', { from });
    assert.equal(line.level, 'warn');
    assert.equal((line['after'] as { validPaths: number }).validPaths, before + 1);
    const st = await s!.waitForStatus((x) => x.drift['lower-daemon-modified'] >= 1, 'the drift counted in status', agent);
    assert.ok(firing(st).includes('OverlayWardenLowerStoreDrifted'));
  });

  it('the same path deleted by real Nix is drift again, back to the count before', async () => {
    const before = (await s!.status()).lowerDaemon!.validPaths!;
    const from = agent.log.length;
    s!.fixture.unmounted(`nix-store --store "$A" --delete ${added}`);
    const line = await agent.waitForLog(driftLine('lower-daemon-modified'), 'lower-daemon-modified after the delete', { from });
    assert.equal((line['after'] as { validPaths: number }).validPaths, before - 1);
  });

  it('the daemon killed: down in status with its error, the alert fires, the metric is 0, the agent keeps running', async () => {
    const from = agent.log.length;
    await daemon!.kill();
    daemon = undefined;
    await agent.waitForLog(daemonHealth('watcher-down'), 'watcher-down of the lower daemon', { from });
    const st = await s!.waitForStatus((x) => daemonState(x) === 'down' && firing(x).includes(UNAVAILABLE), 'the daemon down and its alert firing', agent);
    assert.match(st.lowerDaemon?.lastError?.code ?? '', /^DAEMON_CONNECT_FAILED$/);
    assert.ok(st.lowerDaemon!.failures >= 1);
    assert.equal(await metric(), '0');
    // The text report has its row, and a watcher down makes the exit 1.
    const text = await runCli(['status', '--config', s!.configFile]);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /^lower daemon +\S+daemon\.sock down since \S+: DAEMON_CONNECT_FAILED: /m);
    assert.equal(agent.running, true);
  });

  it('a peer that hangs on the socket: DAEMON_TIMED_OUT in status, the agent alive', async () => {
    fs.rmSync(socket, { force: true });
    const peer = await socketServer(socket, () => undefined, 0o666);
    try {
      const st = await s!.waitForStatus((x) => x.lowerDaemon?.lastError?.code === 'DAEMON_TIMED_OUT', 'DAEMON_TIMED_OUT in status', agent);
      assert.equal(st.lowerDaemon?.state, 'down');
      assert.equal(agent.running, true);
    } finally {
      await peer.close();
    }
  });

  it('a peer that answers garbage: DAEMON_BAD_MAGIC in status, the agent alive', async () => {
    fs.rmSync(socket, { force: true });
    const magic = Buffer.alloc(8);
    magic.writeBigUInt64LE(0xdeadbeefn);
    const peer = await socketServer(socket, (conn) => conn.write(magic), 0o666);
    try {
      const st = await s!.waitForStatus((x) => x.lowerDaemon?.lastError?.code === 'DAEMON_BAD_MAGIC', 'DAEMON_BAD_MAGIC in status', agent);
      assert.equal(st.lowerDaemon?.state, 'down');
      assert.equal(agent.running, true);
    } finally {
      await peer.close();
    }
  });

  it('the daemon restarted on the same socket: up again, watcher-up logged, the alert resolved, the metric 1', async () => {
    const from = agent.log.length;
    await restartDaemon();
    await agent.waitForLog(daemonHealth('watcher-up'), 'watcher-up of the lower daemon', { from });
    const st = await s!.waitForStatus((x) => daemonState(x) === 'up' && !firing(x).includes(UNAVAILABLE), 'the daemon up and its alert resolved', agent);
    assert.equal(st.lowerDaemon?.failures, 0);
    assert.equal(await metric(), '1');
    assert.equal(agent.running, true);
    assert.deepEqual(agent.other, [], 'nothing but JSON log lines on stderr (no crash trace)');
  });

  it('a path registered while the agent was stopped: the next start reports lower-daemon-modified from its start-up diff', async () => {
    await agent.stop('SIGTERM');
    added = s!.fixture.unmounted('d=$(mktemp -d); echo added-while-stopped > "$d/file"; nix-store --store "$A" --add "$d"; rm -rf "$d"').trim();
    agent = await s!.startAgent();
    const line = await agent.waitForLog((l) => driftLine('lower-daemon-modified')(l) && l['source'] === 'startup', 'lower-daemon-modified at start');
    const { before, after } = line as unknown as { before: { validPaths: number }; after: { validPaths: number } };
    assert.equal(after.validPaths, before.validPaths + 1);
  });

  it('started while the daemon is down: the start goes on, status says down; the daemon back: up, and the change meanwhile as drift', async () => {
    await agent.stop('SIGTERM');
    await daemon!.kill();
    daemon = undefined;
    s!.fixture.unmounted(`nix-store --store "$A" --delete ${added}`);
    agent = await s!.startAgent();
    const error = await agent.waitForLog((l) => l['code'] === 'WATCH_DAEMON_UNAVAILABLE', 'the daemon unavailable at start');
    assert.equal(error['socket'], socket);
    assert.equal(error['daemonError'], 'DAEMON_CONNECT_FAILED');
    await s!.waitForStatus((x) => daemonState(x) === 'down' && firing(x).includes(UNAVAILABLE), 'the daemon down and its alert firing', agent);
    const from = agent.log.length;
    await restartDaemon();
    const line = await agent.waitForLog((l) => driftLine('lower-daemon-modified')(l) && l['source'] === 'watch', 'the deletion reported once it answers', {
      from,
    });
    const { before, after } = line as unknown as { before: { validPaths: number }; after: { validPaths: number } };
    assert.equal(after.validPaths, before.validPaths - 1);
    await s!.waitForStatus((x) => daemonState(x) === 'up' && !firing(x).includes(UNAVAILABLE), 'the daemon up and its alert resolved', agent);
    assert.deepEqual(agent.other, []);
  });
});
