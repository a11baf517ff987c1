/**
 * One event, one line: 2,000 lower paths, all read through the overlay (so the kernel caches them and the probe finds
 * the merged view still serving them once they are gone), then removed from the lower store at once. Before, the
 * agent logged two lines per stale path (4,000 here); now each drift event is one line that says its count, the
 * probe's verdict on all of them is one line, and the full lists stay in `status`.
 */
import assert from 'node:assert/strict';
import { AgentScenario, driftLine, type AgentChild, type LogLine } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { waitFor } from '../support/wait-for.ts';

const MANY = 2000;

describe('agent: a lower-store shrink of 2,000 paths', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let from = 0;

  const probeLine = (line: LogLine): boolean => line.message.startsWith('stale view confirmed by the probe');
  const since = (match: (line: LogLine) => boolean): LogLine[] => agent.log.slice(from).filter(match);

  before(async function () {
    requireNixOverlayFixture(this);
    // Store objects by name (the watcher and the probe look at names and layers, not at the DB).
    s = await AgentScenario.create(`
      nix-store --store "$A" --add "$EXPR" >/dev/null
      cd "$A/nix/store"; seq 1 ${MANY} | awk '{ printf "%032d-f%d\\n", $1, $1 }' | xargs touch
    `);
    s.writeConfig();
    agent = await s.startAgent();
    from = agent.log.length;
    s.ns.bash(`
      cat "$B"/nix/store/*-f* >/dev/null
      cd "$A/nix/store"; ls | grep -- '-f[0-9]*$' | xargs rm -rf
    `);
    // The remount the probe asked for, settled either way: the shrink and the probe came before it.
    await agent.waitForLog((l) => l['remount'] === 'remount-verified' || l['remount'] === 'remount-gave-up', 'the remount the probe asked for', { from });
  });
  after(async () => s?.close());

  it('each lower-shrank event is one line saying its count, its lists bounded; together they name all 2,000 paths', async () => {
    const countOf = (line: LogLine): number => {
      const paths = line['paths'] as string[] | { count: number; first: string[] };
      return Array.isArray(paths) ? paths.length : paths.count;
    };
    // rm -rf may take more than one debounce window: wait until the events name every path.
    await waitFor(() => since(driftLine('lower-shrank')).reduce((n, line) => n + countOf(line), 0) === MANY, `lower-shrank of ${MANY} paths in all`, {
      describe: () => agent.describe(),
    });
    const lines = since(driftLine('lower-shrank'));
    const status = await s!.status();
    assert.equal(lines.length, status.drift['lower-shrank'], agent.describe());
    for (const line of lines) {
      const paths = line['paths'] as string[] | { count: number; first: string[] };
      assert.ok(Array.isArray(paths) || paths.first.length === 10);
      assert.match(line.message, new RegExp(`lost ${countOf(line)} path`));
    }
  });

  it('the probe is one line per shrink, with the count and a sample, and no remount-requested line per stale path', () => {
    const probes = since(probeLine);
    assert.ok(probes.length >= 1 && probes.length <= since(driftLine('lower-shrank')).length, agent.describe());
    for (const line of probes) {
      const stale = line['stale'] as string[] | { count: number; first: string[] };
      if (!Array.isArray(stale)) assert.equal(stale.first.length, 10);
    }
    assert.deepEqual(
      since((l) => l.message.startsWith('remount requested: probe')),
      [],
    );
  });

  it('the whole episode is a handful of lines, not thousands', () => {
    const lines = agent.log.slice(from);
    assert.ok(lines.length < 40, `${lines.length} lines:\n${agent.describe()}`);
  });
});
