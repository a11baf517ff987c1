/**
 * The upper layer's filesystem fills up under a running agent: no watcher sees that, so the agent's scheduled mount
 * check (checks.intervalSeconds) must report `layer.upper-low-space` once, keep quiet while it lasts, say when it
 * clears, and `status` must name it meanwhile. The upper layer and work dir are two directories of one real 4 MiB
 * tmpfs (OverlayFS wants both under one mount), under the real overlay.
 */
import assert from 'node:assert/strict';
import type { AgentStatus } from '../../agent/agent.ts';
import { AgentScenario, runCli, type AgentChild, type LogLine } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

const LOW_SPACE = 'layer.upper-low-space';
const lowSpaceIn = (status: AgentStatus): boolean => status.lastCheck?.findings.some((f) => f.id === LOW_SPACE) === true;

describe('agent: the upper layer filling up is reported by the scheduled mount check', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let reported: LogLine;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    s.unmountOverlay();
    const small = `${s.fixture.dir}/small`;
    s.ns.bash(`
      mkdir "${small}" && mount -t tmpfs -o size=4m ow-small-upper "${small}"
      mkdir "${small}/upper" "${small}/work"
      mount -t overlay overlay -o "lowerdir=$A/nix/store,upperdir=${small}/upper,workdir=${small}/work" "$B/nix/store"
    `);
    s.writeConfig({ store: { upperLayer: `${small}/upper` }, checks: { intervalSeconds: 1 } });
    agent = await s.startAgent();
  });
  after(async () => s?.close());

  it('finds room at start', () => {
    assert.equal(agent.lines((l) => l['finding'] === LOW_SPACE).length, 0, agent.describe());
    assert.ok(agent.lines((l) => /^mount check \(start\)/.test(l.message)).length === 1);
  });

  it('logs layer.upper-low-space, in units that fit, once a build fills the filesystem through the merged dir', async () => {
    s!.ns.bash('dd if=/dev/zero of="$B/nix/store/filler" bs=64k 2>/dev/null || true');
    reported = await agent.waitForLog((l) => l['finding'] === LOW_SPACE, 'the low-space finding');
    assert.equal(reported.level, 'warn');
    assert.match(reported.message, /has \d+(\.\d+)? (B|KiB) available of 4\.00 MiB, below the threshold of 205 KiB/);
    assert.ok(agent.lines((l) => l.message === 'mount check (scheduled): mount valid').length >= 1, agent.describe());
  });

  it('status names it while it lasts: the mount is valid, but not all is well', async () => {
    const status = await s!.waitForStatus(lowSpaceIn, 'the low-space finding in status', agent);
    assert.equal(status.mountValid, true);
    assert.ok(status.lastCheck!.warnings >= 1);
    const text = await runCli(['status', '--config', s!.configFile]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^mount +valid \(checked \S+, \d+ warnings?: .*layer\.upper-low-space\)$/m);
  });

  it('logs nothing more while the findings stay as they are', async () => {
    // Two more scheduled checks, seen in status, after the one that reported.
    let at = reported.timestamp!;
    for (let run = 0; run < 2; run++) {
      const after = at;
      at = (await s!.waitForStatus((st) => st.lastCheck !== undefined && st.lastCheck.at > after, 'another scheduled check', agent)).lastCheck!.at;
    }
    assert.equal(agent.lines((l) => l['finding'] === LOW_SPACE).length, 1, agent.describe());
    assert.equal(agent.lines((l) => /^mount check \(scheduled\)/.test(l.message)).length, 1, agent.describe());
  });

  it('says when it clears, and status no longer names it', async () => {
    s!.ns.bash('rm "$B/nix/store/filler"');
    const cleared = await agent.waitForLog((l) => l['cleared'] === LOW_SPACE, 'the low-space finding to clear');
    assert.equal(cleared.level, 'info');
    const status = await s!.waitForStatus((st) => !lowSpaceIn(st), 'status without the low-space finding', agent);
    assert.equal(status.mountValid, true);
  });
});
