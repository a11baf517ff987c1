/**
 * The upper layer renamed away under a running agent and renamed back. The overlay keeps writing into it wherever it
 * is, so a path added through the overlay meanwhile lands in the renamed directory. The agent reports the watcher
 * down (and `status` says so), then up once the layer is back at its path, the path added meanwhile as drift
 * (upper-path-added), and a path added afterwards.
 */
import assert from 'node:assert/strict';
import { AgentScenario, driftLine, type AgentChild, type LogLine } from '../support/agent-child.ts';
import { parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: the upper layer moved away and back', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;

  const health = (type: string) => (line: LogLine) => line['event'] === type && line['watcher'] === 'upper-layer';
  /** Adds a file through the overlay store (it lands in the upper layer, wherever that is now); returns its store path. */
  const addThroughOverlay = (content: string): string =>
    parseAssignments(s!.ns.bash(`cd "$(dirname "$EXPR")"; echo ${content} > ${content}; echo path=$(nix-store --store "$B" --add ${content})`))['path']!;
  const added = (path: string) => (line: LogLine) => driftLine('upper-path-added')(line) && line['path'] === path;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    // upper-path-added is logged at debug.
    s.writeConfig({ log: { level: 'debug' } });
    agent = await s.startAgent();
    s.ns.bash('mv "$U" "$U.away"');
  });
  after(async () => s?.close());

  it('logs watcher-down for the upper layer; status says it is down', async () => {
    const down = await agent.waitForLog(health('watcher-down'), 'watcher-down of the upper layer');
    assert.equal(down.level, 'error');
    assert.equal(down['reason'], 'vanished');
    const status = await s!.waitForStatus(
      (st) => st.watchers.some((w) => w.watcher === 'upper-layer' && w.state === 'down'),
      'the watcher down in status',
      agent,
    );
    const watcher = status.watchers.find((w) => w.watcher === 'upper-layer')!;
    assert.deepEqual(watcher, {
      watcher: 'upper-layer',
      target: s!.fixture.upperLayer,
      state: 'down',
      since: down['at'],
      reason: 'vanished',
      detail: 'ENOENT',
    });
  });

  it('back at its path: watcher-up, and the path added meanwhile as upper-path-added', async () => {
    const meanwhile = addThroughOverlay('added-while-away');
    s!.ns.bash('mv "$U.away" "$U"');
    await agent.waitForLog(health('watcher-up'), 'watcher-up of the upper layer');
    const from = agent.log.findIndex(health('watcher-up'));
    await agent.waitForLog(added(meanwhile), `upper-path-added of ${meanwhile}, after watcher-up`, { from });
    await s!.waitForStatus((st) => st.watchers.every((w) => w.state === 'up'), 'every watcher up in status', agent);
  });

  it('a path added afterwards is seen', async () => {
    const from = agent.log.length;
    const later = addThroughOverlay('added-after');
    await agent.waitForLog(added(later), `upper-path-added of ${later}`, { from });
  });
});
