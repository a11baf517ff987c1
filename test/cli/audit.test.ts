/** `overlay-warden audit` as users run it: human and JSON reports, exit codes, usage errors, quiet stderr in pipes. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured, runCliProcess } from '../support/cli-run.ts';
import { parseEnvelope, reportOf } from '../support/json-output.ts';

describe('overlay-warden audit', function () {
  this.timeout(60_000);
  let dir: string;
  let store: DemoStore;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-audit-cli-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 200, upperPaths: 50, duplicates: 25 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--json: every finding in the shape `check` uses, naming its store path; exit 0 without errors', async () => {
    const run = await runCliCaptured(['audit', '--json', '--store', store.storeUrl]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', 'nothing on stderr when it is not a terminal');
    const out = reportOf(run.stdout, 'audit') as { findings: Finding[]; partial: boolean; stats: Record<string, unknown>; sources: Record<string, string> };
    assert.equal(out.partial, false);
    assert.equal(out.findings.length, 25);
    for (const f of out.findings) {
      assert.deepEqual(Object.keys(f).sort(), ['evidence', 'hint', 'id', 'message', 'severity']);
      assert.match(f.evidence['path'] as string, /^\/nix\/store\/[0-9a-z]{32}-/);
    }
    assert.equal(out.sources['upperLayer'], store.upper.layer);
    assert.equal(out.stats['duplicates'], 25);
  });

  it('human report: grouped by severity, capped per id with a pointer to --json, and a verdict line', async () => {
    const run = await runCliCaptured(['audit', '--store', store.storeUrl]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^overlay-warden audit /);
    assert.match(run.stdout, /\ninfo \(25\)\n/);
    assert.match(run.stdout, /… and 5 more store\.duplicate \(info\); --json lists all/);
    assert.match(run.stdout, /\nOK: 0 errors, 0 warnings, 25 info; registrations: \d+ upper, 200 lower; entries: \d+ upper, 200 lower; 25 duplicates; in /);
  });

  it('exit 1 when a finding is an error', async () => {
    const victim = store.upper.copiedUp.find((p) => !store.upper.duplicates.includes(p))!;
    const object = path.join(store.lower.realStoreDir, path.basename(victim));
    const saved = path.join(dir, 'saved');
    fs.renameSync(object, saved);
    try {
      const run = await runCliCaptured(['audit', '--json', '--store', store.storeUrl]);
      assert.equal(run.code, 1);
      assert.ok(reportOf(run.stdout, 'audit').findings.some((f) => f.id === 'store.dangling' && f.evidence['path'] === victim));
    } finally {
      fs.renameSync(saved, object);
    }
  });

  it('usage errors exit 2; a missing lower DB is reported with its code; a missing upper DB is an empty one', async () => {
    assert.equal((await runCliCaptured(['audit', '--threads', 'many', '--store', store.storeUrl])).code, 2);
    const noLowerDb = await runCliCaptured([
      'audit',
      '--json',
      '--store',
      `local-overlay://?root=${store.mergedRoot}&state=${store.upper.stateDir}&lower-store=${encodeURIComponent(`${dir}/none`)}&upper-layer=${store.upper.layer}`,
    ]);
    assert.equal(noLowerDb.code, 1);
    assert.equal(parseEnvelope(noLowerDb.stdout, 'audit').error?.code, 'NIX_DB_MISSING');
    const noUpperDb = await runCliCaptured([
      'audit',
      '--json',
      '--store',
      `local-overlay://?root=${dir}/none&lower-store=${encodeURIComponent(store.lower.root)}&upper-layer=${store.upper.layer}`,
    ]);
    const strays = reportOf(noUpperDb.stdout, 'audit').findings.filter((f) => f.id === 'store.stray');
    assert.equal(strays.length, store.upper.paths.length, 'every upper-only object is a stray when no upper DB registers it');
  });

  it('as a child process in a pipe: report on stdout, stderr quiet', () => {
    const run = runCliProcess(['audit', '--store', store.storeUrl]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /OK: 0 error/);
  });
});
