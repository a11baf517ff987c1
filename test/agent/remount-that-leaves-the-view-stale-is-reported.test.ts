/**
 * A remount command that exits 0 without remounting, after the upper copy of a duplicated path was deleted directly
 * (Nix's delete-duplicate scenario): the mount check afterwards finds the mount right, but the probe still sees the
 * deleted copy served. The agent reports it as the `remount.still-stale` finding, counts the attempt as failed
 * (REMOUNT_STILL_STALE) and keeps the flag.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { remountNeededPath } from '../../agent/remount/index.ts';
import { AgentScenario, driftLine, remountLine, type AgentChild } from '../support/agent-child.ts';
import { requireMountScenario } from '../support/mount-scenario.ts';
import { requireCommand } from '../support/requirements.ts';
import { writeHook } from '../remount/hook-fixture.ts';
import { addToBothLayers } from './duplicated-store-path.ts';

describe('agent: a remount command that leaves the view stale', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let name: string;

  before(async function () {
    requireMountScenario(this);
    requireCommand(this, 'nsenter');
    s = await AgentScenario.create();
    const dup = addToBothLayers(s, 'stale-duplicate', 'in both layers, then stale');
    name = dup.slice('/nix/store/'.length);
    // Looked up through the merged dir, so its dentry is cached when the upper copy goes.
    s.ns.bash(`stat "$B${dup}" >/dev/null`);
    const hooks = path.join(s.fixture.dir, 'hooks');
    fs.mkdirSync(hooks, { mode: 0o755 });
    const noRemount = writeHook(hooks, 'does-not-remount', 'exit 0');
    s.writeConfig({ remount: { command: [noRemount.path], attempts: 1 } });
    agent = await s.startAgent();
    fs.rmSync(`${s.fixture.upperLayer}/${name}`, { force: true });
  });
  after(async () => s?.close());

  it('reports the path as remount.still-stale after the command, and gives up with REMOUNT_STILL_STALE', async () => {
    await agent.waitForLog((l) => driftLine('upper-path-deleted')(l) && l['alsoInLower'] === true, 'the direct upper delete');
    const verified = await agent.waitForLog(remountLine('remount-verified'), 'the check after the remount');
    assert.equal(verified['fresh'], false, agent.describe());
    assert.equal(verified.level, 'warn');
    assert.deepEqual(verified['errors'], ['remount.still-stale']);
    const gaveUp = await agent.waitForLog(remountLine('remount-gave-up'), 'the give-up');
    assert.equal(gaveUp['code'], 'REMOUNT_STILL_STALE');
    assert.match(gaveUp.message, new RegExp(`still stale after the remount: ${name}`));

    const status = await s!.waitForStatus((st) => st.remount.lastOutcome !== undefined, 'the remount outcome in status', agent);
    const outcome = status.remount.lastOutcome!;
    assert.equal(outcome.status, 'failed');
    const stale = outcome.findings.filter((f) => f.id === 'remount.still-stale');
    assert.deepEqual(
      stale.map((f) => [f.severity, f.message]),
      [['error', `still stale after the remount: ${name}`]],
    );
    assert.equal(status.mountValid, true, 'the mount check itself found the mount right');
    assert.ok(fs.existsSync(remountNeededPath(s!.stateDir)), 'the flag stays set');
  });
});
