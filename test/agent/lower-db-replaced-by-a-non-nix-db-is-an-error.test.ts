/**
 * The lower DB (made by real Nix 2.8) is replaced under a running agent by a file that is not SQLite: the agent logs
 * the replacement at error level saying what the file is, and `status` keeps the event with that verdict. Started
 * again, its mount check reports `layer.lower-db-invalid`, and so does `check`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { LowerDbReplacedEvent } from '../../agent/watch/index.ts';
import { AgentScenario, driftLine, runCli, type AgentChild, type LogLine } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('agent: the lower DB replaced by a file that is not SQLite', function () {
  let s: AgentScenario | undefined;
  let lowerDb: string;
  let agent: AgentChild;
  let line: LogLine;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    s.writeConfig();
    lowerDb = path.join(s.fixture.lowerRoot, 'nix/var/nix/db/db.sqlite');
    agent = await s.startAgent();
    const from = agent.log.length;
    // As a careless copy or a broken image update would: another file renamed over the DB.
    fs.writeFileSync(`${lowerDb}.incoming`, 'HTTP/1.1 404 Not Found\r\n\r\n');
    fs.renameSync(`${lowerDb}.incoming`, lowerDb);
    line = await agent.waitForLog((l) => driftLine('lower-db-replaced')(l) || driftLine('lower-db-modified')(l), 'the lower DB drift event', { from });
  });
  after(async () => s?.close());

  it('logs the replacement at error level, naming the file and what it is', () => {
    assert.equal(line.level, 'error', agent.describe());
    assert.equal(line.message, `drift: the lower DB was replaced; ${lowerDb} is now not an SQLite database, so Nix cannot open the lower store`);
  });

  it('status keeps the event with the content verdict', async () => {
    const status = await s!.status();
    const event = status.lastEvents.find((e): e is LowerDbReplacedEvent => e.type === 'lower-db-replaced');
    assert.deepEqual([event?.after?.file, event?.after?.content, event?.after?.validPaths], [lowerDb, 'not-sqlite', null]);
    assert.equal(event?.before?.content, 'nix-db');
  });

  it('started again, its mount check reports layer.lower-db-invalid; so does check', async () => {
    assert.deepEqual(await agent.stop('SIGTERM'), { code: 0, signal: null });
    const again = await s!.startAgent();
    const [finding] = again.lines((l) => l['finding'] === 'layer.lower-db-invalid');
    assert.ok(finding, again.describe());
    assert.equal(finding.level, 'error');
    assert.match(finding.message, /is not a Nix DB: it is not an SQLite database/);
    const check = await runCli(['check', '--json', '--config', s!.configFile], undefined, s!.ns.nsenter);
    const report = JSON.parse(check.stdout) as { findings: { id: string; evidence: Record<string, unknown> }[] };
    assert.equal(check.code, 1);
    assert.deepEqual(
      report.findings.filter((x) => x.id === 'layer.lower-db-invalid').map((x) => [x.evidence['path'], x.evidence['content']]),
      [[lowerDb, 'not-sqlite']],
    );
  });
});
