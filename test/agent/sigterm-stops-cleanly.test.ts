/**
 * SIGTERM in the middle of long work: `overlay-warden verify` hashing a huge lower object stops with a partial
 * report and no worker thread left to keep the process alive; the agent stopped while its remount command runs
 * kills the command, keeps the remount-needed flag, and exits 0; the next start remounts. Nothing here is timed:
 * the work cut short (hashing 1 TiB, a command sleeping 600 s) would outlast every wait's safety net by far.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requestControl } from '../../agent/control/index.ts';
import { defaultRemountHook, remountNeededPath } from '../../agent/remount/index.ts';
import { AgentScenario, remountLine, type Exit } from '../support/agent-child.ts';
import { CLI_MAIN } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';
import { parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { openFileOffsets, processAlive } from '../support/proc.ts';
import { waitFor, withSafetyNet } from '../support/wait-for.ts';
import { writeHook } from '../remount/hook-fixture.ts';

describe('SIGTERM during long work', function () {
  let s: AgentScenario | undefined;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create(`
      cd "$(dirname "$EXPR")"
      for i in 1 2 3 4 5 6; do echo "object $i" > obj-$i; done
      for i in 1 2 3 4 5 6; do echo p$i=$(nix-store --store "$A" --add obj-$i); done > "$EXPR.paths"
    `);
    // The overlay store in use (its upper DB exists), as verify expects.
    s.ns.bash('cd "$(dirname "$EXPR")"; echo upper > obj-upper; nix-store --store "$B" --add obj-upper >/dev/null');
  });
  after(async () => s?.close());

  it('`overlay-warden verify` hashing a huge object: exits by itself, with a partial report', async () => {
    const paths = parseAssignments(fs.readFileSync(`${s!.fixture.exprFile}.paths`, 'utf8'));
    // One lower object becomes a 1 TiB sparse file (this test's own store): hashing it would take many minutes.
    const huge = path.join(s!.fixture.lowerStoreDir, paths['p6']!.slice('/nix/store/'.length));
    fs.rmSync(huge, { force: true });
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 1024 ** 4);

    const child = spawn(process.execPath, [CLI_MAIN, 'verify', '--lower', '--json', '--threads', '2', '--store', s!.fixture.storeUrl], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'], NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      // A worker is reading the huge file: the process holds it open and has read into it.
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`verify ended before the signal (${child.exitCode}): ${stderr}`);
        return openFileOffsets(child.pid!, huge).some((offset) => offset > 0);
      }, 'verify to be hashing the huge object');
      child.kill('SIGTERM');
      // A thread left hashing would keep the process alive for many minutes: far past this safety net.
      const exit = await withSafetyNet(exited, 'verify to exit after SIGTERM', { describe: () => stderr });
      assert.deepEqual(exit, { code: 128 + 15, signal: null }, `it exits by itself with 128 + SIGTERM, as shells report it\n${stderr}`);
      assert.equal(processAlive(child.pid!), false);
      const report = reportOf(stdout, 'verify');
      assert.equal(report.partial, true);
      assert.equal(report.planned, 6);
      assert.ok(report.checked < report.planned, `checked ${report.checked} of ${report.planned}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the agent while its remount command runs: the command is killed, exit 0, the flag kept; the next start remounts', async () => {
    const hooks = path.join(s!.fixture.dir, 'hooks');
    fs.mkdirSync(hooks, { mode: 0o755 });
    const pids = path.join(hooks, 'slow.pids');
    const slow = writeHook(hooks, 'slow', `sleep 600 & echo "$$ $!" >> '${pids}'; wait`);
    s!.writeConfig({ remount: { command: [slow.path], timeoutSeconds: 900 } });
    const agent = await s!.startAgent();
    const answer = await requestControl(s!.socket, { action: 'remount', source: 'manual', by: 'sigterm test', wait: false }, { timeoutMs: 10_000 });
    assert.equal(answer.ok, true);
    await waitFor(() => fs.existsSync(pids) && fs.readFileSync(pids, 'utf8').trim().split(/\s+/).length === 2, 'the remount command to be running');
    const hookPids = fs.readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number);

    assert.deepEqual(await agent.stop('SIGTERM'), { code: 0, signal: null }, agent.describe());
    assert.ok(agent.lines((l) => l.message === 'overlay-warden agent stopped').length === 1);
    await waitFor(() => hookPids.every((pid) => !processAlive(pid)), 'the remount command and its child to be gone');
    const flag = JSON.parse(fs.readFileSync(remountNeededPath(s!.stateDir), 'utf8')) as { reasons: Array<{ request: { by?: string } }> };
    assert.ok(
      flag.reasons.some((r) => r.request.by === 'sigterm test'),
      'the persisted flag names the request',
    );

    // Restarted with a command that works: the kept flag is remounted for, and cleared once the view is fresh.
    const counting = writeHook(hooks, 'works', `exec '${defaultRemountHook()}' "$@"`);
    s!.writeConfig({ remount: { command: [counting.path] } });
    const next = await s!.startAgent();
    assert.equal(next.lines((l) => /still pending/.test(l.message)).length, 1, next.describe());
    const verified = await next.waitForLog(remountLine('remount-verified'), 'the restored remount');
    assert.equal(verified['fresh'], true);
    await waitFor(() => !fs.existsSync(remountNeededPath(s!.stateDir)), 'the flag to be cleared');
    assert.equal(counting.calls().length, 1);
    const status = await s!.status();
    assert.ok(
      status.remount.lastOutcome?.reasons.some((r) => r.includes('sigterm test')),
      JSON.stringify(status.remount.lastOutcome),
    );
    assert.deepEqual(await next.stop('SIGTERM'), { code: 0, signal: null });
  });
});
