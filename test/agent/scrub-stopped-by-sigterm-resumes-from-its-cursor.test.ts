/**
 * The agent's scheduled scrub, stopped by SIGTERM mid-pass, resumes from its cursor on the next start, not from the
 * start. The overlay store holds five small upper paths; the fourth becomes a 1 TiB sparse file, so the scrub is
 * certainly mid-hash in it when the signal comes (hashing it would take many minutes: nothing here is timed). The
 * agent must exit promptly with 0 and keep the cursor after the third path. Before the restart, the huge file gets
 * its content back and the first path, already verified in this pass, is tampered with: a pass that resumed does not
 * look at it again (no finding), where a pass started afresh would report it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadScrubState, scrubStateFileOf, type ScheduleStatus } from '../../agent/schedule/index.ts';
import { AgentScenario, type AgentChild } from '../support/agent-child.ts';
import { parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { openFileOffsets } from '../support/proc.ts';
import { waitFor, withSafetyNet } from '../support/wait-for.ts';

describe('agent: a scrub stopped by SIGTERM resumes from its cursor', function () {
  let s: AgentScenario | undefined;
  let p: Record<string, string>;
  let first: AgentChild;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    // Five upper paths, registered in this order (the scrub goes by ValidPaths id).
    p = parseAssignments(
      s.ns.bash('cd "$(dirname "$EXPR")"; for i in 1 2 3 4 5; do echo "upper $i" > up-$i; echo u$i=$(nix-store --store "$B" --add up-$i); done'),
    );
    // 100 B/s: each chunk is one small path (the budget paces chunks of about two seconds' worth).
    s.writeConfig({ schedule: { audit: { afterDrift: 'off', every: 'off' }, scrub: { every: '1s', maxReadMBps: 0.0001, threads: 1 } } });
  });
  after(async () => s?.close());

  const upperFile = (key: string): string => path.join(s!.fixture.upperLayer, path.basename(p[key]!));
  const scheduleOf = async (): Promise<ScheduleStatus> => (await s!.status()).schedule as ScheduleStatus;

  it('SIGTERM while hashing the fourth path: exits 0 promptly, the cursor after the third path kept', async () => {
    const huge = upperFile('u4');
    fs.rmSync(huge, { force: true });
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 1024 ** 4);
    first = await s!.startAgent();
    await waitFor(() => openFileOffsets(first.pid, huge).some((offset) => offset > 0), 'the scrub to be hashing the huge fourth path', {
      timeoutMs: 60_000,
      describe: () => first.describe(),
    });
    const schedule = await scheduleOf();
    assert.equal(schedule.scrub.pass?.pathsDone, 3);
    assert.ok(schedule.pool.threads >= 1 && schedule.pool.busy >= 1, `pool gauges while hashing: ${JSON.stringify(schedule.pool)}`);
    const exit = await withSafetyNet(first.stop('SIGTERM'), 'the agent to stop mid-scrub', { describe: () => first.describe() });
    assert.deepEqual(exit, { code: 0, signal: null });
    const saved = loadScrubState(scrubStateFileOf(s!.stateDir));
    assert.equal(saved?.pass?.pathsDone, 3);
    assert.equal(saved.pass.pathsTotal, 5);
  });

  it('the next start resumes after the third path and completes the same pass, never looking at the first path again', async () => {
    const saved = loadScrubState(scrubStateFileOf(s!.stateDir))!;
    fs.rmSync(upperFile('u4'));
    fs.writeFileSync(upperFile('u4'), 'upper 4\n', { mode: 0o444 });
    fs.chmodSync(upperFile('u1'), 0o644);
    fs.writeFileSync(upperFile('u1'), 'tampered after it was verified\n');
    const second = await s!.startAgent();
    const resumed = await second.waitForLog((l) => l['schedule'] === 'scrub-resumed', 'the scrub to resume');
    assert.equal(resumed['pathsDone'], 3);
    const done = await second.waitForLog((l) => l['schedule'] === 'scrub-done', 'the resumed pass to complete', { timeoutMs: 60_000 });
    assert.equal(done['startedAt'], saved.pass!.startedAt, 'the same pass');
    assert.equal(done['paths'], 5);
    assert.equal(done['findings'], 0, 'the first path was not verified again');
    assert.equal(second.lines((l) => l['schedule'] === 'scrub-started').length, 0, 'no new pass started before it');
    const schedule = await scheduleOf();
    assert.equal(schedule.scrub.lastCompleted?.startedAt, saved.pass!.startedAt);
  });
});
