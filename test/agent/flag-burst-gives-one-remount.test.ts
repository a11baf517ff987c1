/**
 * 1,000 remount flags in a burst (over the control socket, as many clients would send them) plus Nix's
 * remount-hook (hooks/nix-remount-hook, waiting for the result) in the same burst: the agent coalesces them all into
 * exactly one run of the remount command, which every request shares.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestControl } from '../../agent/control/index.ts';
import { defaultRemountHook } from '../../agent/remount/index.ts';
import { AgentScenario, remountLine, type AgentChild } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { writeHook, type TestHook } from '../remount/hook-fixture.ts';

const NIX_REMOUNT_HOOK = fileURLToPath(new URL('../../hooks/nix-remount-hook', import.meta.url));
const FLAGS = 1000;
/** Clients connected at once: all of them, as a burst of Nix hooks would be (the socket accepts up to 4096). */
const CLIENTS = FLAGS;

describe('agent: a burst of 1,000 remount flags', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let hook: TestHook;
  let answers: unknown[];
  let nixHook: { status: number | null; stdout: string; stderr: string };

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    const hooks = path.join(s.fixture.dir, 'hooks');
    fs.mkdirSync(hooks, { mode: 0o755 });
    // Counts its runs, then remounts for real.
    hook = writeHook(hooks, 'counting-remount', `exec '${defaultRemountHook()}' "$@"`);
    // Flags within the window of the first share a run. The burst itself takes 0.7-1 s on a loaded 2-core machine, so
    // the window is wider than the default second: what is tested is the coalescing, not how fast 1,000 clients connect.
    s.writeConfig({ remount: { command: [hook.path], coalesceMs: 3000 } });
    agent = await s.startAgent();

    // Nix's hook, in the overlay's namespace, joins the burst and waits for the shared result.
    const nix = spawn(s.ns.nsenter[0]!, [...s.ns.nsenter.slice(1), NIX_REMOUNT_HOOK, s.fixture.mergedStoreDir], {
      env: { PATH: process.env['PATH'], OVERLAY_WARDEN_SOCKET: s.socket },
    });
    const nixDone = new Promise<typeof nixHook>((resolve) => {
      let stdout = '';
      let stderr = '';
      nix.stdout.on('data', (d: Buffer) => (stdout += String(d)));
      nix.stderr.on('data', (d: Buffer) => (stderr += String(d)));
      nix.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    let next = 0;
    answers = [];
    const client = async (): Promise<void> => {
      while (next < FLAGS) {
        const n = next++;
        const response = await requestControl(s!.socket, { action: 'remount', source: 'manual', by: `burst ${n}`, wait: false }, { timeoutMs: 10_000 });
        answers.push(response.ok ? response.result : response.error);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    nixHook = await nixDone;
  });
  after(async () => s?.close());

  it('every flag is taken', () => {
    assert.equal(answers.length, FLAGS);
    for (const answer of answers) assert.deepEqual(answer, { queued: true });
  });

  it("Nix's remount-hook gets the shared run's result: remounted, fresh", () => {
    assert.equal(nixHook.status, 0, nixHook.stderr);
    assert.match(nixHook.stdout, /the agent remounted .* \(run 1, 1 attempt, together with \d+ other requests\); the view is fresh/);
  });

  it('exactly one remount ran, answering all of them, and nothing is left pending', async () => {
    await agent.waitForLog(remountLine('remount-verified'), 'the remount to be verified');
    const status = await s!.waitForStatus((st) => st.remount.phase === 'idle' && st.remount.pending === undefined, 'the remounter to be idle', agent);
    assert.equal(hook.calls().length, 1, 'the remount command ran once');
    assert.equal(status.remount.counters.runs, 1);
    assert.equal(status.remount.counters.remounted, 1);
    assert.equal(status.remount.counters.requests, FLAGS + 1);
    assert.equal(status.remount.counters.coalesced, FLAGS);
    assert.equal(status.remount.lastOutcome?.requests, FLAGS + 1);
    assert.equal(status.remount.lastOutcome?.status, 'remounted');
    const started = agent.lines(remountLine('remount-started'));
    assert.equal(started.length, 1);
    assert.equal(started[0]!['requests'], FLAGS + 1);
  });
});
