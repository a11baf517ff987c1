/**
 * The lower DB's directory deleted under a running agent, then recreated (a copy moved back into place). Before,
 * chokidar stopped watching it for good. The agent reports the watcher down and the DB vanished, then the watcher up
 * and the DB appeared, and a change of the DB afterwards is seen: it is watched again.
 */
import assert from 'node:assert/strict';
import { AgentScenario, driftLine, type AgentChild, type LogLine } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: the lower DB directory deleted, then recreated', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;

  const health = (type: string) => (line: LogLine) => line['event'] === type && line['watcher'] === 'lower-db';
  const dbReplaced = (change: string) => (line: LogLine) => driftLine('lower-db-replaced')(line) && line['change'] === change;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    s.writeConfig();
    agent = await s.startAgent();
    s.ns.bash('cp -a "$A/nix/var/nix/db" "$A/nix/var/nix/db.restore"; rm -rf "$A/nix/var/nix/db"');
  });
  after(async () => s?.close());

  it('logs watcher-down and lower-db-replaced (vanished); status says the DB watcher is down', async () => {
    const down = await agent.waitForLog(health('watcher-down'), "watcher-down of the lower DB's directory");
    assert.equal(down['target'], `${s!.fixture.lowerRoot}/nix/var/nix/db`);
    await agent.waitForLog(dbReplaced('vanished'), 'lower-db-replaced (vanished)');
    await s!.waitForStatus((st) => st.watchers.some((w) => w.watcher === 'lower-db' && w.state === 'down'), 'the DB watcher down in status', agent);
  });

  it('recreated: watcher-up and lower-db-replaced (appeared)', async () => {
    s!.ns.bash('mv "$A/nix/var/nix/db.restore" "$A/nix/var/nix/db"');
    await agent.waitForLog(health('watcher-up'), "watcher-up of the lower DB's directory");
    await agent.waitForLog(dbReplaced('appeared'), 'lower-db-replaced (appeared)');
    const status = await s!.waitForStatus((st) => st.watchers.every((w) => w.state === 'up'), 'every watcher up in status', agent);
    assert.equal(status.watchers.find((w) => w.watcher === 'lower-db')?.state, 'up');
  });

  it('watched again: a path registered in the lower DB afterwards is lower-db-modified', async () => {
    const from = agent.log.length;
    s!.ns.bash('cd "$(dirname "$EXPR")"; echo later > later; nix-store --store "$A" --add later >/dev/null');
    const modified = await agent.waitForLog(driftLine('lower-db-modified'), 'lower-db-modified after the DB came back', { from });
    assert.equal(modified['source'], 'watch');
  });
});
