/**
 * An agent SIGKILLed in the middle of a remount: its remount command dies with it, and what the command had
 * started (the orphan) goes on holding the remount lock. The next agent on the same state dir picks up the
 * persisted flag and waits for that lock before its own remount, so the two never overlap; then it remounts and
 * checks the view. The remount command records when each run starts and ends; order comes from those records and
 * from /proc/locks, never from timing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { requestControl } from '../../agent/control/index.ts';
import { defaultRemountHook, remountLockPath, remountNeededPath } from '../../agent/remount/index.ts';
import { AgentScenario, remountLine } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { processAlive } from '../support/proc.ts';
import { requireCommand } from '../support/requirements.ts';
import { waitFor } from '../support/wait-for.ts';
import { writeHook } from '../remount/hook-fixture.ts';
import { someoneWaitsForLock } from '../remount/lock-waiters.ts';

describe('agent: SIGKILL in the middle of a remount', function () {
  let s: AgentScenario | undefined;

  before(async function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'flock');
    requireCommand(this, 'setpriv');
    s = await AgentScenario.create();
  });
  after(async () => s?.close());

  it("the next agent waits for the orphan's end before its own remount, then remounts and checks the view", async () => {
    const hooks = path.join(s!.fixture.dir, 'hooks');
    fs.mkdirSync(hooks, { mode: 0o755 });
    const records = path.join(hooks, 'records');
    const gate = path.join(hooks, 'gate');
    // Each run: records its start, leaves a child (the part that outlives a killed agent) that waits for the gate
    // and records its end, waits for it, records its own end, then remounts for real. The child gives up if the
    // test's directory is removed, should the test fail before it opens the gate.
    const slow = writeHook(
      hooks,
      'slow',
      `echo "start $$" >> '${records}'
( while [ ! -e '${gate}' ] && [ -d '${hooks}' ]; do sleep 0.05; done; echo "child-end $$" >> '${records}' ) &
wait
echo "end $$" >> '${records}'
exec '${defaultRemountHook()}' "$@"`,
    );
    const read = (): string[] => (fs.existsSync(records) ? fs.readFileSync(records, 'utf8').trim().split('\n') : []);
    s!.writeConfig({ remount: { command: [slow.path], timeoutSeconds: 900 } });

    const first = await s!.startAgent();
    const answer = await requestControl(s!.socket, { action: 'remount', source: 'manual', by: 'sigkill test', wait: false }, { timeoutMs: 10_000 });
    assert.equal(answer.ok, true);
    const started = await waitFor(() => read().find((line) => line.startsWith('start ')), 'the first remount to be running');
    const firstRun = Number(started.slice('start '.length));

    await first.kill();
    assert.equal((await first.exited).signal, 'SIGKILL');
    await waitFor(() => !processAlive(firstRun), "the first run's command to die with its agent");
    assert.ok(fs.existsSync(remountNeededPath(s!.stateDir)), 'the flag survives the crash');

    // The next agent picks up the flag; its remount waits for the lock the orphan still holds.
    const next = await s!.startAgent();
    await waitFor(() => someoneWaitsForLock(remountLockPath(s!.stateDir)), 'the next remount to wait for the lock', {
      describe: () => `${read().join('\n')}\n${next.describe()}`,
    });
    assert.deepEqual(read(), [`start ${firstRun}`], 'nothing else ran while the orphan holds the lock');

    fs.writeFileSync(gate, '');
    const verified = await next.waitForLog(remountLine('remount-verified'), "the next agent's remount to be checked");
    assert.equal(verified['fresh'], true, next.describe());
    await waitFor(() => !fs.existsSync(remountNeededPath(s!.stateDir)), 'the flag to be cleared');

    const lines = read();
    const secondRun = Number(lines.find((line) => line.startsWith('start ') && line !== `start ${firstRun}`)?.slice('start '.length));
    assert.deepEqual(
      lines,
      [`start ${firstRun}`, `child-end ${firstRun}`, `start ${secondRun}`, `child-end ${secondRun}`, `end ${secondRun}`],
      'the second run started only after the orphan of the first ended; the first never ended (killed with its agent)',
    );
    assert.equal(next.lines((l) => /still pending/.test(l.message)).length, 1, next.describe());
    const status = await s!.status();
    assert.equal(status.remount.lastOutcome?.status, 'remounted');
    assert.ok(
      status.remount.lastOutcome?.reasons.some((r) => r.includes('sigkill test')),
      JSON.stringify(status.remount.lastOutcome),
    );
    assert.deepEqual(await next.stop('SIGTERM'), { code: 0, signal: null });
  });
});
