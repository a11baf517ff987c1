/**
 * A lower-store change triggers the scheduled audit: the overlay store's build uses lower paths (metadata copied
 * up), the agent runs, and the lower store is garbage-collected under it. The lower-shrank drift brings the audit
 * forward (afterDrift: once the store has settled); its findings (the upper registrations the GC left dangling)
 * are the findings event the agent logs and keeps in `status`. No audit runs before the change (`every` is off).
 */
import assert from 'node:assert/strict';
import type { ScheduleStatus } from '../../agent/schedule/index.ts';
import { AgentScenario, driftLine } from '../support/agent-child.ts';
import { COPY_UP, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: a lower-store change is audited', function () {
  let s: AgentScenario | undefined;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create(`
      nix-store --store "$A" --realise "$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)" >/dev/null 2>&1
    `);
    s.ns.bash(`${COPY_UP}
      drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
      copy_up $drv $(nix-store --store "$A" -q --outputs $drv)
    `);
    s.writeConfig({ schedule: { audit: { afterDrift: '1s', maxDelay: '30s', every: 'off' }, scrub: { every: 'off' } } });
  });
  after(async () => s?.close());

  it('the GC of the lower store is followed by one audit, for the drift, whose findings name the dangling registrations', async () => {
    const agent = await s!.startAgent();
    const before = (await s!.status()).schedule as ScheduleStatus;
    assert.equal(before.audit.runs, 0, 'no audit before the change');
    assert.equal(before.scrub.state, 'off');
    s!.fixture.unmounted('nix-store --store "$A" --gc >/dev/null 2>&1');
    await agent.waitForLog(driftLine('lower-shrank'), 'the lower-shrank drift event');
    const audited = await agent.waitForLog((l) => l['schedule'] === 'audit-done', 'the audit after the drift', { timeoutMs: 60_000 });
    assert.equal(audited['reason'], 'drift');
    assert.ok((audited['errors'] as number) > 0, agent.describe());
    assert.ok((audited['ids'] as string[]).includes('store.dangling'), JSON.stringify(audited));
    const after = (await s!.status()).schedule as ScheduleStatus;
    assert.equal(after.audit.last?.reason, 'drift');
    assert.equal(after.audit.last?.findings, audited['findings']);
    assert.equal(after.audit.state, 'idle');
    assert.equal(agent.lines((l) => l['schedule'] === 'audit-done').length, 1, 'one audit for the burst of drift the GC made');
  });
});
