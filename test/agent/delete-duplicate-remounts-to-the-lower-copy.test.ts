/**
 * Nix's delete-duplicate scenario (tests/functional/local-overlay-store/delete-duplicate-inner.sh), with the agent
 * watching: a path added through the overlay store, then to the lower store (two copies, two inodes); the upper
 * copy is then deleted directly in the upper layer, as Nix's GC does for a path both layers hold. The agent flags
 * the stale view, remounts, and afterwards the merged dir serves the lower copy (same inode, as Nix's test checks).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { AgentScenario, driftLine, remountLine, type AgentChild } from '../support/agent-child.ts';
import { parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { addToBothLayers } from './duplicated-store-path.ts';

describe('agent: the upper copy of a duplicated path deleted directly', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let dup: string;
  let name: string;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    dup = addToBothLayers(s, 'duplicate-file', 'in both layers');
    name = dup.slice('/nix/store/'.length);
    const inodes = parseAssignments(s.ns.bash(`echo merged=$(stat -c %i "$B${dup}"); echo lower=$(stat -c %i "$A${dup}")`));
    assert.notEqual(inodes['merged'], inodes['lower'], 'before: the merged dir serves the upper copy');
    s.writeConfig();
    agent = await s.startAgent();
    // What Nix's GC does to a path both layers hold: delete it in the upper layer directly (then call the remount hook).
    fs.rmSync(`${s.fixture.upperLayer}/${name}`, { force: true });
  });
  after(async () => s?.close());

  it('flags a stale view: upper-path-deleted with alsoInLower', async () => {
    const line = await agent.waitForLog((l) => driftLine('upper-path-deleted')(l) && l['path'] === dup, 'the direct upper delete');
    assert.equal(line['alsoInLower'], true);
    assert.equal(line['entry'], 'object');
    assert.equal(line.level, 'warn');
    assert.match(line.message, /^stale view:/);
  });

  it('remounts for it and verifies the view is fresh', async () => {
    const verified = await agent.waitForLog(remountLine('remount-verified'), 'the remount to be verified');
    assert.equal(verified['fresh'], true, agent.describe());
    const status = await s!.waitForStatus((st) => st.remount.lastOutcome !== undefined && st.remount.phase === 'idle', 'the remount outcome in status', agent);
    assert.equal(status.remount.lastOutcome!.status, 'remounted');
    assert.ok(
      status.remount.lastOutcome!.reasons.some((r) => r.startsWith('watcher:') && r.includes(dup)),
      JSON.stringify(status.remount.lastOutcome!.reasons),
    );
    assert.equal(status.remount.pending, undefined);
    assert.equal(status.drift['upper-path-deleted'], 1);
  });

  it('the merged dir now serves the lower copy (same inode and contents as the lower store)', () => {
    assert.equal(fs.existsSync(`${s!.fixture.upperLayer}/${name}`), false, 'no copy in the upper layer');
    const after = parseAssignments(s!.ns.bash(`echo merged=$(stat -c %i "$B${dup}"); echo lower=$(stat -c %i "$A${dup}")`));
    assert.equal(after['merged'], after['lower']);
    assert.equal(s!.ns.bash(`cat "$B${dup}"`), 'in both layers\n');
  });
});
