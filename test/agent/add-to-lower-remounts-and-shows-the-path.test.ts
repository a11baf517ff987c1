/**
 * Nix's add-to-lower scenario (tests/functional/local-overlay-store/add-lower-inner.sh), with the agent watching:
 * a path added through the overlay store, then one added to the lower store under the live overlay. The agent
 * reports "lower grew" with exactly the lower path, remounts, verifies, and the path is served through the merged dir.
 */
import assert from 'node:assert/strict';
import { AgentScenario, driftLine, remountLine, type AgentChild } from '../support/agent-child.ts';
import { parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: a path added to the lower store under the live overlay', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let paths: Record<string, string>;

  before(async function () {
    requireNixOverlayFixture(this);
    // As Nix's initLowerStore: something added, and something built, in the lower store.
    s = await AgentScenario.create(`
      nix-store --store "$A" --add "$EXPR" >/dev/null
      nix-store --store "$A" --realise "$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)" >/dev/null 2>&1
    `);
    s.writeConfig();
    agent = await s.startAgent();
    paths = parseAssignments(
      s.ns.bash(`
        cd "$(dirname "$EXPR")"
        echo "Add to overlay store" > overlay-file
        overlay=$(nix-store --store "$B" --add overlay-file)
        stat "$B$overlay" >/dev/null
        echo overlay=$overlay
        echo "Add to lower store" > lower-file
        lower=$(nix-store --store "$A" --add lower-file)
        stat "$A$lower" >/dev/null
        echo lower=$lower
      `),
    );
  });
  after(async () => s?.close());

  it('logs "lower-grew" naming exactly the lower path', async () => {
    const line = await agent.waitForLog(driftLine('lower-grew'), 'a lower-grew event');
    assert.equal(line.level, 'warn');
    assert.equal(line['source'], 'watch');
    assert.deepEqual(line['paths'], [paths['lower']]);
  });

  it('remounts with hooks/remount and verifies the view is fresh', async () => {
    const verified = await agent.waitForLog(remountLine('remount-verified'), 'the remount to be verified');
    assert.equal(verified['fresh'], true, agent.describe());
    const started = agent.lines(remountLine('remount-started'));
    assert.ok(started.length >= 1);
    assert.match(started[0]!.message, /hooks\/remount .*merged\/nix\/store/);
    const status = await s!.waitForStatus((st) => st.remount.lastOutcome !== undefined && st.remount.phase === 'idle', 'the remount outcome in status', agent);
    assert.equal(status.mountValid, true);
    const succeeded = agent.lines(remountLine('remount-succeeded')).at(-1)!;
    assert.ok(status.lastCheck!.at >= succeeded.timestamp!, 'status shows the mount check run after the remount');
    assert.equal(status.remount.lastOutcome!.status, 'remounted');
    assert.ok(status.remount.lastOutcome!.reasons.includes('lower store grew by 1 path'), JSON.stringify(status.remount.lastOutcome!.reasons));
    assert.equal(status.remount.pending, undefined, 'the remount-needed flag is cleared');
    assert.ok(status.drift['lower-grew'] >= 1);
    assert.equal(
      agent
        .lines(driftLine('lower-grew'))
        .flatMap((l) => l['paths'] as string[])
        .includes(paths['overlay']!),
      false,
      'the overlay-store path is not lower drift',
    );
  });

  it('the lower path is visible through the merged dir, with the lower contents', () => {
    const served = s!.ns.bash(`cat "$B${paths['lower']}"`);
    assert.equal(served, 'Add to lower store\n');
    assert.equal(s!.ns.bash(`cat "$B${paths['overlay']}"`), 'Add to overlay store\n');
  });
});
