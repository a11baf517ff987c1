/**
 * A running agent reads both DBs (the mount check's quick_check of the upper DB and its look at the lower DB, the
 * lower DB's identity, the upper DB's referrers of a vanished lower path) and leaves both DB directories exactly as
 * they were: every name, size and mtime, and the directories' own mtimes. Once with the lower store given without
 * `read-only=true` and an upper DB Nix closed; once with `read-only=true` and an upper DB a live Nix holds open.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { LowerShrankEvent } from '../../agent/watch/index.ts';
import { AgentScenario, driftLine } from '../support/agent-child.ts';
import { listDir, namesOf, NixDbHolder, type DirListing } from '../support/nix-db-holder.ts';
import { COPY_UP, parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: both DB directories stay untouched while it runs', function () {
  let s: AgentScenario | undefined;
  let p: Record<string, string>;
  let upperDb: string;
  let lowerDb: string;
  const listings = (): DirListing[] => [listDir(path.dirname(upperDb)), listDir(path.dirname(lowerDb))];

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create(`
      nix-store --store "$A" --add "$EXPR" >/dev/null
      nix-store --store "$A" --realise "$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)" >/dev/null 2>&1
    `);
    // The overlay store uses the lower build: its closure's metadata copied up, as the overlay store does.
    p = parseAssignments(
      s.ns.bash(`${COPY_UP}
        drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
        out=$(nix-store --store "$A" -q --outputs $drv)
        copy_up $drv $out
        echo input1=$(nix-store --store "$A" -qR $out | grep -- '-chain-input-1$')
        echo input2=$(nix-store --store "$A" -qR $out | grep -- '-chain-input-2$')
      `),
    );
    upperDb = path.join(s.fixture.mergedRoot, 'nix/var/nix/db/db.sqlite');
    lowerDb = path.join(s.fixture.lowerRoot, 'nix/var/nix/db/db.sqlite');
  });
  after(async () => s?.close());

  /**
   * Starts the agent with the lower store given with or without read-only=true, deletes the lower path `gone` in
   * the lower store dir (the agent looks its referrers up in the upper DB), waits for that, and stops the agent;
   * asserts the upper DB was read, that neither DB directory changed, and that no DB finding was logged.
   */
  async function runAgent(lowerReadOnly: boolean, gone: string, upperDbNames: readonly string[]): Promise<void> {
    const scenario = s!;
    const before = listings();
    assert.deepEqual(namesOf(before[0]!), upperDbNames);
    const lower = lowerReadOnly ? `${scenario.fixture.lowerRoot}?read-only=true` : scenario.fixture.lowerRoot;
    scenario.writeConfig({ store: { url: scenario.fixture.storeUrl.replace(encodeURIComponent(scenario.fixture.lowerRoot), encodeURIComponent(lower)) } });
    const agent = await scenario.startAgent();
    const from = agent.log.length;
    scenario.fixture.unmounted(`rm -rf "$A${gone}"`);
    await agent.waitForLog(driftLine('lower-shrank'), 'the lower-shrank event', { from });
    const status = await scenario.status();
    assert.deepEqual(await agent.stop('SIGTERM'), { code: 0, signal: null });
    const shrank = status.lastEvents.find((e): e is LowerShrankEvent => e.type === 'lower-shrank' && e.paths.includes(gone));
    assert.deepEqual(
      shrank?.brokenUpperClosures?.map((c) => c.path),
      [gone],
      `the upper DB was read\n${agent.describe()}`,
    );
    assert.deepEqual(
      agent.lines((l) => /^(layer\.(upper|lower)-db|store\.db-)/.test(String(l['finding'] ?? ''))),
      [],
      'no DB finding',
    );
    assert.deepEqual(listings(), before);
  }

  it('lower store without read-only=true, upper DB closed by Nix', async () => {
    await runAgent(false, p['input1']!, ['big-lock', 'db.sqlite', 'reserved', 'schema']);
  });

  it('lower store read-only=true, upper DB held open by a live Nix', async () => {
    const holder = await NixDbHolder.start(s!.fixture.mergedRoot, upperDb);
    try {
      await runAgent(true, p['input2']!, ['big-lock', 'db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal', 'reserved', 'schema']);
    } finally {
      await holder.release();
    }
  });
});
