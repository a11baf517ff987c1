/**
 * `http.address` (default 127.0.0.1:9873) configures HTTP endpoints that are not built yet: the agent says so at
 * start, and nothing listens there; `off` says nothing.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { unbuiltSettings } from '../../agent/config/index.ts';
import { AgentScenario } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: settings for parts not built yet are logged as such', function () {
  let s: AgentScenario | undefined;
  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
  });
  after(async () => s?.close());

  it('unbuiltSettings (pure): the address unless off, the token file when set', () => {
    assert.deepEqual(unbuiltSettings({ http: { address: 'off' } }), []);
    assert.deepEqual(
      unbuiltSettings({ http: { address: '127.0.0.1:9873', tokenFile: '/etc/ow/token' } }).map((u) => [u.key, u.value]),
      [
        ['http.address', '127.0.0.1:9873'],
        ['http.tokenFile', '/etc/ow/token'],
      ],
    );
  });

  it('an address in effect: one info line at start says it is not served, and nothing listens there', async () => {
    // A port nothing on this machine listens on, so that a refused connection means the agent did not open it.
    const port = await freePort();
    s!.writeConfig({ http: { address: `127.0.0.1:${port}` } });
    const agent = await s!.startAgent();
    const [line, ...more] = agent.lines((l) => l['setting'] === 'http.address');
    assert.deepEqual(more, []);
    assert.equal(line?.level, 'info');
    assert.match(line?.message ?? '', new RegExp(`^http\\.address 127\\.0\\.0\\.1:${port} is not served: the HTTP endpoints .* are not built yet`));
    // The agent runs in a private mount namespace but shares this network namespace.
    await assert.rejects(connect(port), (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED');
    await agent.stop();
  });

  it('http.address off: no such line', async () => {
    s!.writeConfig({ http: { address: 'off' } });
    const agent = await s!.startAgent();
    assert.deepEqual(
      agent.lines((l) => l['setting'] === 'http.address'),
      [],
    );
    await agent.stop();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
