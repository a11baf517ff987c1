/**
 * The Qubes AppVM case: the agent ran (and saved its baseline of the lower store), was stopped, and while it was
 * down the lower store changed: garbage-collected (paths the upper store's closures use are gone) and given new
 * paths. Started again, it reports both as start-up drift, with the upper registrations the vanished paths break and
 * their referrers, as real Nix sees them in the upper DB.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { BrokenUpperClosure, LowerGrewEvent, LowerShrankEvent } from '../../agent/watch/index.ts';
import { baselineFileOf } from '../../agent/baseline/index.ts';
import { isValidStorePathName } from '../../agent/store/store-path.ts';
import { AgentScenario, driftLine, remountLine, type AgentChild } from '../support/agent-child.ts';
import { COPY_UP, parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: restarted after the lower store changed while it was down', function () {
  let s: AgentScenario | undefined;
  let p: Record<string, string>;
  let added: string[];
  let removed: string[];
  let first: { code: number | null; signal: NodeJS.Signals | null };
  let second: AgentChild;

  const listLower = (): Set<string> =>
    new Set(
      fs
        .readdirSync(s!.fixture.lowerStoreDir)
        .filter(isValidStorePathName)
        .map((n) => `/nix/store/${n}`),
    );
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

  before(async function () {
    requireNixOverlayFixture(this);
    // The lower store: a build (seed 1) and an added file nothing references.
    s = await AgentScenario.create(`
      nix-store --store "$A" --add "$EXPR" >/dev/null
      nix-store --store "$A" --realise "$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)" >/dev/null 2>&1
    `);
    // The overlay store uses the lower build (its metadata copied up, as the overlay store does) and builds a
    // variant (seed 2) whose inputs partly come from the lower store.
    p = parseAssignments(
      s.ns.bash(`${COPY_UP}
        drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
        copy_up $drv $(nix-store --store "$A" -q --outputs $drv)
        nix-build --store "$B" "$EXPR" --no-out-link --arg seed 2 >/dev/null 2>&1
        echo upperDrv=$(nix-instantiate --store "$B" "$EXPR" --arg seed 2 2>/dev/null)
      `),
    );
    s.writeConfig();
    const agent = await s.startAgent();
    assert.ok(agent.lines((l) => /^no lower-store baseline yet/.test(l.message)).length === 1, agent.describe());
    assert.ok(fs.existsSync(baselineFileOf(s.stateDir)), 'the baseline is saved');
    first = await agent.stop('SIGTERM', 5000);

    // Down time: the overlay is unmounted, the lower store is garbage-collected and gets new paths.
    s.unmountOverlay();
    const before = listLower();
    s.fixture.unmounted(`
      nix-store --store "$A" --gc >/dev/null 2>&1
      cd "$(dirname "$EXPR")"; echo one > new-1; echo two > new-2
      nix-store --store "$A" --add new-1 new-2 >/dev/null
    `);
    const now = listLower();
    added = [...now].filter((x) => !before.has(x)).sort();
    removed = [...before].filter((x) => !now.has(x)).sort();
    assert.equal(added.length, 2);
    const upperDrvRefs = lines(s.ns.bash(`nix-store --store "$B" -q --references ${p['upperDrv']}`));
    assert.ok(
      upperDrvRefs.some((r) => removed.includes(r)),
      'the GC removed a lower path the upper build references',
    );
    s.mountOverlay();
    second = await s.startAgent();
  });
  after(async () => s?.close());

  it('SIGTERM stopped the first agent with exit 0', () => {
    assert.deepEqual(first, { code: 0, signal: null });
  });

  it('logs lower-grew and lower-shrank as start-up drift', async () => {
    const grew = await second.waitForLog(driftLine('lower-grew'), 'lower-grew');
    assert.equal(grew['source'], 'startup');
    assert.match(grew.message, /since the agent last ran/);
    const shrank = await second.waitForLog(driftLine('lower-shrank'), 'lower-shrank');
    assert.equal(shrank['source'], 'startup');
    assert.equal(shrank.level, 'error', 'upper closures are broken');
  });

  it('remounts once for the start-up growth; nothing was pending from the first run', async () => {
    const verified = await second.waitForLog(remountLine('remount-verified'), 'the remount for the start-up growth');
    assert.equal(verified['fresh'], true);
    const started = second.lines(remountLine('remount-started'));
    assert.equal(started.length, 1);
    assert.equal(started[0]!['requests'], 1, 'one request: the start-up lower-grew');
    assert.equal(second.lines((l) => /still pending/.test(l.message)).length, 0, 'the first agent never flagged a remount');
  });

  it('status lists exactly the added and removed paths', async () => {
    const status = await s!.status();
    const grew = status.lastEvents.find((e): e is LowerGrewEvent => e.type === 'lower-grew');
    const shrank = status.lastEvents.find((e): e is LowerShrankEvent => e.type === 'lower-shrank');
    assert.deepEqual(grew?.paths, added);
    assert.deepEqual(shrank?.paths, removed);
    assert.equal(status.drift['lower-grew'], 1);
    assert.equal(status.drift['lower-shrank'], 1);
  });

  it('the broken upper closures: vanished paths the upper DB registers and the upper layer does not hold, with their referrers as Nix lists them', async () => {
    const status = await s!.status();
    const shrank = status.lastEvents.find((e): e is LowerShrankEvent => e.type === 'lower-shrank')!;
    const expected: BrokenUpperClosure[] = [];
    for (const path of removed) {
      // A path the upper layer holds stays visible through the overlay: nothing breaks.
      if (fs.existsSync(`${s!.fixture.upperLayer}/${path.slice('/nix/store/'.length)}`)) continue;
      const valid = s!.ns.bash(`nix-store --store "$B" --check-validity ${path} >/dev/null 2>&1 && echo yes || echo no`).trim() === 'yes';
      if (!valid) continue;
      const referrers = lines(s!.ns.bash(`nix-store --store "$B" -q --referrers ${path}`))
        .filter((r) => r !== path)
        .sort();
      expected.push({ path, registeredInUpper: true, referrers });
    }
    assert.ok(expected.length > 0);
    assert.deepEqual(shrank.brokenUpperClosures, expected);
    assert.ok(
      shrank.brokenUpperClosures!.some((c) => c.referrers.includes(p['upperDrv']!)),
      `the upper build ${p['upperDrv']} is named as a referrer of a vanished lower path`,
    );
  });

  it('the new baseline is the lower store as it is now: a third start reports no drift', async () => {
    const stopped = await second.stop('SIGTERM', 5000);
    assert.deepEqual(stopped, { code: 0, signal: null });
    const third = await s!.startAgent();
    assert.ok(third.lines((l) => /^the lower store is as it was when the agent last ran/.test(l.message)).length === 1, third.describe());
    assert.equal(third.lines((l) => typeof l['event'] === 'string' && l['source'] === 'startup').length, 0);
  });
});
