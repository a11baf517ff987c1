/**
 * The lower store dir removed (`rm -rf`) under a running agent, then restored (a copy, moved back into place, with one
 * path more). The overlay pins the removed directory, so inotify says nothing about it: the agent must notice by
 * itself. It reports the watcher down (and `status` says so, exiting 1), then up once the directory is back, the
 * gap as drift (the new path as lower-grew), and a path added afterwards.
 */
import assert from 'node:assert/strict';
import { AgentScenario, driftLine, runCli, type AgentChild, type LogLine } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

const GAP = `${'c'.repeat(32)}-restored-with-the-copy`;
const LATER = `${'d'.repeat(32)}-added-after-the-restore`;

describe('agent: the lower store dir removed, then restored', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let upAt = 0;

  const health = (type: string) => (line: LogLine) => line['event'] === type && line['watcher'] === 'lower-store-dir';

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    s.writeConfig();
    agent = await s.startAgent();
    s.ns.bash(`
      cp -a "$A/nix/store" "$A/nix/store.restore"
      mkdir "$A/nix/store.restore/${GAP}"
      rm -rf "$A/nix/store"
    `);
  });
  after(async () => s?.close());

  it('logs watcher-down for the lower store dir, at error level, with the reason', async () => {
    const down = await agent.waitForLog(health('watcher-down'), 'watcher-down of the lower store dir');
    assert.equal(down.level, 'error');
    assert.equal(down['reason'], 'vanished');
    assert.equal(down['target'], s!.fixture.lowerStoreDir);
  });

  it('status says the watcher is down (which, since when, why), and `status` exits 1', async () => {
    const status = await s!.waitForStatus(
      (st) => st.watchers.some((w) => w.watcher === 'lower-store-dir' && w.state === 'down'),
      'the watcher down in status',
      agent,
    );
    const watcher = status.watchers.find((w) => w.watcher === 'lower-store-dir')!;
    assert.equal(watcher.state === 'down' && watcher.reason, 'vanished');
    assert.equal(watcher.state === 'down' && watcher.since, agent.lines(health('watcher-down'))[0]!['at']);
    assert.deepEqual(
      status.watchers.filter((w) => w.watcher !== 'lower-store-dir').map((w) => [w.watcher, w.state]),
      [
        ['upper-layer', 'up'],
        ['lower-db', 'up'],
        ['mount-table', 'up'],
      ],
    );
    const text = await runCli(['status', '--config', s!.configFile]);
    assert.equal(text.code, 1, text.stdout + text.stderr);
    assert.match(text.stdout, /watchers\s+lower-store-dir down since \S+: vanished/);
  });

  it('once the copy is back: watcher-up, and the path it brought as lower-grew', async () => {
    s!.ns.bash('mv "$A/nix/store.restore" "$A/nix/store"');
    await agent.waitForLog(health('watcher-up'), 'watcher-up of the lower store dir');
    upAt = agent.log.findIndex(health('watcher-up'));
    const grew = await agent.waitForLog((l) => driftLine('lower-grew')(l) && (l['paths'] as string[]).includes(`/nix/store/${GAP}`), 'the gap as lower-grew', {
      from: upAt,
    });
    assert.equal(grew['source'], 'watch');
    const status = await s!.waitForStatus((st) => st.watchers.every((w) => w.state === 'up'), 'every watcher up in status', agent);
    assert.equal(status.watchers.length, 4);
  });

  it('a path added afterwards is seen', async () => {
    const from = agent.log.length;
    s!.ns.bash(`mkdir "$A/nix/store/${LATER}"`);
    await agent.waitForLog((l) => driftLine('lower-grew')(l) && (l['paths'] as string[]).includes(`/nix/store/${LATER}`), 'lower-grew of the later path', {
      from,
    });
  });
});
