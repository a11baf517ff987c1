/** A fresh overlay store Nix has not used yet has no upper DB: the audit and `verify --lower` treat it as empty. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAudit } from '../../agent/audit/run-audit.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import { emptyNixDb } from '../../agent/store/nix-db.ts';
import { resolveStoreLayout } from '../../agent/store/resolve-store-layout.ts';
import { parseStoreUrl } from '../../agent/store/store-url.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';

describe('a fresh overlay without an upper DB', function () {
  this.timeout(60_000);
  let dir: string;
  let store: DemoStore;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-fresh-overlay-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 40, upperPaths: 1 });
    // What a new overlay looks like before Nix's first use: an empty upper layer and no upper state at all.
    fs.rmSync(store.upper.stateDir, { recursive: true });
    for (const name of fs.readdirSync(store.upper.layer)) fs.rmSync(path.join(store.upper.layer, name), { recursive: true });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('emptyNixDb answers like a DB with no rows, and creates nothing on disk', () => {
    const file = path.join(store.upper.stateDir, 'db', 'db.sqlite');
    const db = emptyNixDb(file);
    assert.equal(db.mode, 'absent');
    assert.equal(db.countValidPaths(), 0);
    assert.equal(db.queryPathInfo(store.lower.paths[0]!), undefined);
    assert.deepEqual([...db.iterateValidPaths()], []);
    db.close();
    assert.equal(fs.existsSync(store.upper.stateDir), false);
  });

  it('audit finds nothing wrong (nothing is registered yet) and writes nothing', async () => {
    const report = await runAudit({ layout: resolveStoreLayout(parseStoreUrl(store.storeUrl)), signal: new AbortController().signal });
    assert.deepEqual(
      report.findings.filter((f) => f.severity !== 'info').map((f) => f.id),
      [],
    );
    assert.equal(report.stats.upperRegistrations, 0);
    assert.equal(report.stats.lowerRegistrations, 40);
    assert.equal(fs.existsSync(store.upper.stateDir), false);
  });

  it('verify --lower hashes the lower store', async () => {
    const run = await runCliCaptured(['verify', '--lower', '--json', '--store', store.storeUrl]);
    assert.equal(run.code, 0, run.stderr);
    const out = reportOf(run.stdout, 'verify');
    assert.deepEqual(
      out.findings.filter((f: { severity: string }) => f.severity === 'error'),
      [],
    );
    assert.equal(out.checked, 40);
    assert.equal(fs.existsSync(store.upper.stateDir), false);
  });
});
