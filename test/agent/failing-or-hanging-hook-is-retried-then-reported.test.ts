/**
 * A remount command that fails (exit 1) or hangs (sleeps past its timeout): the agent retries it as configured,
 * then reports that it gave up (log, status, the persisted flag), never crashes, and keeps watching and answering.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { remountNeededPath, type RemountOutcome } from '../../agent/remount/index.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { AgentScenario, driftLine, remountLine, runCli, type AgentChild } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { reportOf } from '../support/json-output.ts';
import { processAlive } from '../support/proc.ts';
import { waitFor } from '../support/wait-for.ts';
import { writeHook, type TestHook } from '../remount/hook-fixture.ts';

describe('agent: a remount command that fails or hangs', function () {
  let s: AgentScenario | undefined;
  let hooks: string;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    hooks = path.join(s.fixture.dir, 'hooks');
    fs.mkdirSync(hooks, { mode: 0o755 });
  });
  after(async () => s?.close());

  /** Starts an agent whose remount command is `hook`, asks it to remount through `overlay-warden remount`, and returns the outcome. */
  async function remountWith(hook: TestHook, remount: Record<string, unknown>): Promise<{ agent: AgentChild; code: number | null; outcome: RemountOutcome }> {
    fs.rmSync(s!.stateDir, { recursive: true, force: true });
    s!.writeConfig({ remount: { command: [hook.path], ...remount } });
    const agent = await s!.startAgent();
    const run = await runCli(['remount', '--json', '--config', s!.configFile]);
    const { outcome } = reportOf<{ findings: Finding[]; outcome: RemountOutcome }>(run.stdout, 'remount');
    return { agent, code: run.code, outcome };
  }

  /** What every failing run must leave: the agent alive and answering, the flag persisted, the give-up reported. */
  async function assertReportedAndAlive(agent: AgentChild, attempts: number): Promise<void> {
    const gaveUp = await agent.waitForLog(remountLine('remount-gave-up'), 'remount-gave-up');
    assert.equal(gaveUp.level, 'error');
    assert.equal(gaveUp['attempts'], attempts);
    assert.equal(agent.lines(remountLine('remount-failed')).length, attempts);
    assert.ok(agent.running, 'the agent is still running');
    const status = await s!.status();
    assert.equal(status.remount.counters.gaveUp, 1);
    assert.equal(status.remount.counters.attempts, attempts);
    assert.ok(status.remount.pending !== undefined, 'status shows the remount still needed');
    assert.equal(status.remount.pending.attempts, attempts);
    assert.ok(fs.existsSync(remountNeededPath(s!.stateDir)), 'the flag stays persisted for the next start');
    // Still watching: a path added to the lower store is reported.
    const mark = agent.log.length;
    s!.fixture.unmounted(`cd "$(dirname "$EXPR")"; echo "$RANDOM$RANDOM" > later; nix-store --store "$A" --add later >/dev/null`);
    await agent.waitForLog(driftLine('lower-grew'), 'lower-grew after the give-up', { from: mark });
    assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  }

  it('exit 1: tried `attempts` times with backoff, then reported; the agent keeps going', async () => {
    const hook = writeHook(hooks, 'fails', 'echo "no luck" >&2; exit 1');
    const { agent, code, outcome } = await remountWith(hook, { attempts: 3, backoffSeconds: 0.1 });
    assert.equal(code, 1, 'overlay-warden remount exits 1 when the remount failed');
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.attempts, 3);
    assert.equal(outcome.error?.code, 'REMOUNT_COMMAND_FAILED');
    assert.match(outcome.error?.message ?? '', /exited with status 1: no luck/);
    assert.equal(hook.calls().length, 3, 'the hook ran once per attempt');
    for (const call of hook.calls())
      assert.equal(call, `always 1 ${s!.fixture.mergedStoreDir}`, 'LIBMOUNT_FORCE_MOUNT2=always, the merged store dir as the only argument');
    await assertReportedAndAlive(agent, 3);
  });

  it('hangs: killed at its timeout (with its children), retried, then reported; the agent keeps going', async () => {
    const pids = path.join(hooks, 'hangs.pids');
    const hook = writeHook(hooks, 'hangs', `sleep 600 & echo "$$ $!" >> '${pids}'; wait`);
    const { agent, code, outcome } = await remountWith(hook, { attempts: 2, backoffSeconds: 0.1, timeoutSeconds: 0.5 });
    assert.equal(code, 1);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.attempts, 2);
    assert.equal(outcome.error?.code, 'REMOUNT_COMMAND_TIMED_OUT');
    assert.equal(outcome.lastAttempt?.timedOut, true);
    assert.equal(hook.calls().length, 2);
    const started = fs.readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(started.length, 4, 'two attempts, each a shell and its sleep');
    await waitFor(() => started.every((pid) => !processAlive(pid)), 'every hook process (and its sleep) to be gone');
    await assertReportedAndAlive(agent, 2);
  });
});
