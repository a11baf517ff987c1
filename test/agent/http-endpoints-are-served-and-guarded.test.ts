/**
 * `http.address` is served: health, readiness, status (the JSON of `status --json`) and metrics open to anyone;
 * `POST /remount` only with the bearer token of `http.tokenFile` (401 without, 403 with a wrong one); a token file
 * others can read is refused; an address in use stops the start with a clear error; `--listen` overrides the
 * address. The control socket refuses a peer that is not root.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AgentScenario, runCli, type AgentChild } from '../support/agent-child.ts';
import { runScriptAsNobody } from '../support/as-nobody.ts';
import { freePort } from '../support/free-port.ts';
import { reportOf } from '../support/json-output.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { waitFor } from '../support/wait-for.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe('agent: the HTTP endpoints are served, and control is guarded', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild | undefined;
  let base = '';
  let tokenFile = '';
  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    tokenFile = path.join(s.fixture.dir, 'http-token');
    fs.writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    s.writeConfig({ http: { address: `127.0.0.1:${port}`, tokenFile } });
    agent = await s.startAgent();
  });
  after(async () => s?.close());

  it('logs where it serves, and /healthz, /readyz and /metrics answer without a token', async () => {
    const line = agent!.lines((l) => l['address'] === base.slice('http://'.length))[0];
    assert.match(line?.message ?? '', /^serving HTTP on 127\.0\.0\.1:\d+: \/healthz \/readyz \/status \/metrics, POST \/remount with the bearer token$/);
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { alive: boolean }).alive, true);
    const ready = await fetch(`${base}/readyz`);
    assert.deepEqual(await ready.json(), { ready: true, reasons: [] });
    assert.equal(ready.status, 200);
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await metrics.text(), new RegExp(`^overlay_warden_info\\{version="[^"]+",store_url="${escape(s!.fixture.storeUrl)}"\\} 1$`, 'm'));
  });

  it('/status answers exactly what status --json prints', async () => {
    // Wait for the layers' first collection, so that nothing changes between the two answers.
    await waitFor(
      async () => ((await (await fetch(`${base}/status`)).json()) as { result: { layers: { collectedAt?: string } } }).result.layers.collectedAt,
      'layer facts',
    );
    const http = (await (await fetch(`${base}/status`)).json()) as Record<string, unknown>;
    const run = await runCli(['status', '--json', '--config', s!.configFile]);
    const cli = JSON.parse(run.stdout) as Record<string, unknown>;
    reportOf(JSON.stringify(http), 'status');
    assert.deepEqual(http, cli);
    const result = http['result'] as { http: unknown; layers: { layers: Array<{ layer: string; fsType?: string }> } };
    assert.deepEqual(result.http, { address: base.slice('http://'.length), control: true });
    assert.deepEqual(
      result.layers.layers.map((l) => [l.layer, typeof l.fsType]),
      [
        ['lower', 'string'],
        ['upper', 'string'],
      ],
    );
  });

  it('POST /remount: 401 without the token, 403 with a wrong one, queued with the right one', async () => {
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${base}/remount`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ wait: false, note: 'test' }),
      });
    const none = await post({});
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'HTTP_UNAUTHENTICATED');
    const wrong = await post({ authorization: `Bearer ${TOKEN}x` });
    assert.equal(wrong.status, 403);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'HTTP_FORBIDDEN');
    // The refused requests flagged nothing.
    assert.equal(agent!.lines((l) => l['remount'] === 'remount-requested').length, 0);
    const right = await post({ authorization: `Bearer ${TOKEN}` });
    assert.equal(right.status, 200);
    assert.deepEqual(await right.json(), { result: { queued: true } });
    await agent!.waitForLog((l) => l['remount'] === 'remount-verified', 'the remount the token allowed');
    assert.equal((await fetch(`${base}/remount`)).status, 405);
    assert.equal((await fetch(`${base}/nothing-here`)).status, 404);
  });

  it('the control socket refuses a peer that is not root (its mode, not only its directory)', async () => {
    // Let nobody reach the socket's directory, so that only the socket's own mode stands in the way.
    const dirs = [s!.fixture.dir, path.dirname(s!.socket)];
    const modes = dirs.map((d) => fs.statSync(d).mode & 0o7777);
    try {
      for (const d of dirs) fs.chmodSync(d, 0o711);
      const script = `import net from 'node:net';
const socket = net.connect(${JSON.stringify(s!.socket)});
socket.on('connect', () => { console.log('connected'); socket.destroy(); });
socket.on('error', (e) => console.log(e.code));`;
      const result = runScriptAsNobody(script);
      assert.equal(result.stdout.trim(), 'EACCES', result.stderr);
    } finally {
      dirs.forEach((d, i) => fs.chmodSync(d, modes[i]!));
    }
  });

  it('a token file others can read stops the start with CONFIG_INSECURE; an address in use with HTTP_ADDRESS_IN_USE', async () => {
    await agent!.stop();
    fs.chmodSync(tokenFile, 0o644);
    const insecure = s!.spawnAgent(s!.writeConfig({ http: { address: '127.0.0.1:0', tokenFile } }, path.join(s!.fixture.dir, 'insecure.yaml')));
    assert.notEqual((await insecure.exited).code, 0);
    assert.match(insecure.describe(), /CONFIG_INSECURE/);
    fs.chmodSync(tokenFile, 0o600);

    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const busy = s!.spawnAgent(s!.writeConfig({ http: { address: `127.0.0.1:${port}` } }, path.join(s!.fixture.dir, 'busy.yaml')));
      assert.notEqual((await busy.exited).code, 0);
      assert.match(busy.describe(), /HTTP_ADDRESS_IN_USE/);
      assert.match(busy.describe(), new RegExp(`another process listens there`));
    } finally {
      holder.close();
    }
  });

  it('--listen serves even when http.address is off', async () => {
    const port = await freePort();
    const off = s!.writeConfig({ http: { address: 'off' } }, path.join(s!.fixture.dir, 'off.yaml'));
    const listening = await s!.startAgent(off, ['--listen', `127.0.0.1:${port}`]);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    await listening.stop();
    const bad = await runCli(['run', '--config', off, '--listen', 'nowhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--listen takes HOST:PORT/);
  });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
