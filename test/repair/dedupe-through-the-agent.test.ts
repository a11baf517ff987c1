/**
 * dedupe asked of a running agent over its control socket (what a container sidecar with only the socket does):
 * the agent runs it, remounts through its own remounter (so the remount is serialised with its others), and answers
 * with the report; `--direct` runs it in the CLI instead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Finding } from '../../agent/findings/index.ts';
import { addToBothLayers } from '../agent/duplicated-store-path.ts';
import { AgentScenario, remountLine, runCli, type AgentChild } from '../support/agent-child.ts';
import { reportOf } from '../support/json-output.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';

interface DedupeReport {
  readonly findings: Finding[];
  readonly via: string;
  readonly duplicates: number;
  readonly removable: number;
  readonly removed: number;
  readonly remount: { status: string } | null;
  readonly check: { paths: number; servedFromLower: number } | null;
  readonly pathsOmitted: number;
}

describe('dedupe through the running agent (the control action)', function () {
  this.timeout(180_000);
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let dup: string;
  const dedupe = (...args: string[]) =>
    runCli(['dedupe', '--json', '--config', s!.configFile, ...args], { PATH: process.env['PATH'], NO_COLOR: '1' }, s!.ns.nsenter);

  before(async function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'flock');
    s = await AgentScenario.create();
    dup = addToBothLayers(s, 'dedupe-me', 'in both layers');
    s.writeConfig();
    agent = await s.startAgent();
  });
  after(async () => s?.close());

  it('a dry run is answered by the agent and changes nothing', async () => {
    const run = await dedupe();
    assert.equal(run.code, 0, run.stderr);
    const report = reportOf<DedupeReport>(run.stdout, 'dedupe');
    assert.deepEqual([report.via, report.duplicates, report.removable, report.removed, report.pathsOmitted], ['agent', 1, 1, 0, 0]);
    assert.ok(fs.existsSync(`${s!.fixture.upperLayer}/${dup.slice('/nix/store/'.length)}`));
  });

  it('--apply: the agent removes the copy, remounts through its remounter, and the lower copy is served', async () => {
    const run = await dedupe('--apply');
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = reportOf<DedupeReport>(run.stdout, 'dedupe');
    assert.equal(report.via, 'agent');
    assert.equal(report.removed, 1);
    assert.equal(report.remount?.status, 'remounted');
    assert.deepEqual(report.check, { paths: 1, servedFromLower: 1 });
    // The agent's remounter ran it (its log says so), checked afterwards as every remount of the agent is.
    const verified = await agent.waitForLog(remountLine('remount-verified'), 'the remount dedupe asked for');
    assert.equal(verified['fresh'], true);
    assert.equal(fs.existsSync(`${s!.fixture.upperLayer}/${dup.slice('/nix/store/'.length)}`), false);
    assert.equal(s!.ns.bash(`cat "$B${dup}"`), 'in both layers\n');
  });

  it('--direct runs in the CLI even with an agent there: nothing left to do', async () => {
    const run = await dedupe('--direct', '--apply');
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = reportOf<DedupeReport>(run.stdout, 'dedupe');
    assert.deepEqual([report.via, report.duplicates, report.removed, report.remount], ['direct', 0, 0, null]);
  });
});
