/**
 * `pivot` as a control-socket action: with an agent running, `overlay-warden pivot` asks it (the agent copies, and
 * remounts through its own remounter), and a sidecar can send the action itself. The lower GC that follows shrinks
 * the lower store without breaking a closure, and the agent's drift event says so.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { requestControl } from '../../agent/control/index.ts';
import type { LowerShrankEvent } from '../../agent/watch/index.ts';
import { AgentScenario } from '../support/agent-child.ts';
import { runCliProcess } from '../support/cli-run.ts';
import { parseEnvelope } from '../support/json-output.ts';
import { COPY_UP, parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireRoot } from '../support/requirements.ts';

interface Report {
  via: string;
  copied: string[];
  toCopy: unknown[];
  alreadyUpper: number;
  remount: { status: string } | null;
  problems: unknown[];
}

describe('pivot through the running agent: the CLI asks it, a sidecar can too, and the lower GC breaks nothing', function () {
  this.timeout(300_000);
  let s: AgentScenario | undefined;
  let deadFile: string;

  before(async function () {
    requireRoot(this);
    requireNixOverlayFixture(this);
    s = await AgentScenario.create(`
      drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
      echo drv=$drv > "$EXPR.paths"
      echo out=$(nix-store --store "$A" --realise "$drv" 2>/dev/null) >> "$EXPR.paths"
    `);
    const p = parseAssignments(fs.readFileSync(`${s.fixture.exprFile}.paths`, 'utf8'));
    s.ns.bash(`${COPY_UP}copy_up ${p['drv']} ${p['out']}; nix-build --store "$B" "$EXPR" --no-out-link --arg seed 2 >/dev/null 2>&1`);
    // As in pivot-support.ts: the upper build's lower inputs stay in the lower layer alone.
    s.unmountOverlay();
    s.fixture.unmounted('for e in "$U"/*; do if [ -e "$A/nix/store/$(basename "$e")" ]; then rm -rf "$e"; fi; done');
    s.mountOverlay();
    deadFile = `${s.fixture.dir}/dead`;
    s.fixture.unmounted(`nix-store --store "$A" --gc --print-dead 2>/dev/null > ${deadFile}`);
    s.writeConfig();
  });
  after(async () => s?.close());

  it('the CLI hands pivot to the agent, which copies and remounts', async () => {
    const agent = await s!.startAgent();
    const run = runCliProcess(['pivot', '--dead', deadFile, '--json', '--config', s!.configFile]);
    const envelope = parseEnvelope(run.stdout, 'pivot') as unknown as { exitCode: number; result: Report };
    assert.equal(envelope.exitCode, 0, `${run.stdout}\n${run.stderr}\n${agent.describe()}`);
    assert.equal(envelope.result.via, 'agent');
    assert.ok(envelope.result.copied.length > 0);
    assert.equal(envelope.result.remount?.status, 'remounted');
    // The remount ran in the agent (its remounter logs it), not in the CLI.
    await agent.waitForLog((l) => l['remount'] === 'remount-verified', "the agent's log of the remount it ran for pivot");
  });

  it('a sidecar sends the action over the socket: a dry run now finds everything in the upper layer', async () => {
    const response = await requestControl(s!.socket, { action: 'pivot', dead: deadFile, dryRun: true }, { timeoutMs: 120_000 });
    assert.ok(response.ok, JSON.stringify(response));
    const report = response.result as Report;
    assert.deepEqual(report.toCopy, []);
    assert.ok(report.alreadyUpper > 0);
    const bad = await requestControl(s!.socket, { action: 'pivot', dead: 'relative/dead' }, { timeoutMs: 10_000 });
    assert.ok(!bad.ok && bad.error.code === 'CONTROL_BAD_REQUEST');
  });

  it('the lower GC then shrinks the lower store without breaking an upper closure', async () => {
    s!.fixture.unmounted('nix-store --store "$A" --gc >/dev/null 2>&1');
    const status = await s!.waitForStatus((st) => st.lastEvents.some((e) => e.type === 'lower-shrank'), 'the agent to see the lower store shrink');
    const shrank = status.lastEvents.filter((e): e is LowerShrankEvent => e.type === 'lower-shrank');
    assert.ok(shrank.flatMap((e) => e.paths).length > 0);
    assert.ok(
      shrank.every((e) => e.brokenUpperClosures !== null),
      'the upper DB was read',
    );
    assert.deepEqual(
      shrank.flatMap((e) => e.brokenUpperClosures ?? []),
      [],
    );
  });
});
