/** The audit end to end on demo stores (real files, real SQLite DBs), checked against what the builder made. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAudit } from '../../agent/audit/run-audit.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import { resolveStoreLayout } from '../../agent/store/resolve-store-layout.ts';
import { parseStoreUrl } from '../../agent/store/store-url.ts';

describe('runAudit on a demo store', function () {
  this.timeout(60_000);
  let dir: string;
  let store: DemoStore;
  const audit = (signal = new AbortController().signal) => runAudit({ layout: resolveStoreLayout(parseStoreUrl(store.storeUrl)), signal });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-run-audit-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 400, upperPaths: 120, duplicates: 15 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a healthy store: only its duplicates, each with the bytes removing the upper copy frees', async () => {
    const report = await audit();
    assert.equal(report.partial, false);
    assert.deepEqual(
      report.findings.map((f) => f.id).filter((id) => id !== 'store.duplicate'),
      [],
    );
    assert.deepEqual(report.findings.map((f) => f.evidence['path']).sort(), [...store.upper.duplicates].sort());
    for (const f of report.findings) assert.ok((f.evidence['upperBytes'] as number) > 0);
    assert.equal(report.stats.upperRegistrations, store.upper.paths.length + store.upper.copiedUp.length);
    assert.equal(report.stats.lowerRegistrations, store.lower.paths.length);
  });

  it('after deleting copied-up lower objects: dangling for each, broken closures naming their upper referrers', async () => {
    // Lower paths the upper DB registers, not duplicated, that some other upper-DB path references.
    const copied = new Set(store.upper.copiedUp);
    const duplicates = new Set(store.upper.duplicates);
    const referrersOf = new Map<string, string[]>();
    for (const p of [...store.upper.paths, ...store.upper.copiedUp]) {
      for (const ref of store.references(p) ?? []) if (ref !== p) referrersOf.set(ref, [...(referrersOf.get(ref) ?? []), p]);
    }
    const victims = store.upper.copiedUp.filter((p) => !duplicates.has(p) && (referrersOf.get(p)?.length ?? 0) > 0).slice(0, 3);
    assert.equal(victims.length, 3);
    for (const victim of victims) fs.rmSync(path.join(store.lower.realStoreDir, path.basename(victim)), { recursive: true });
    const report = await audit();
    const dangling = report.findings.filter((f) => f.id === 'store.dangling').map((f) => f.evidence['path']);
    assert.deepEqual(dangling.sort(), [...victims].sort());
    for (const victim of victims) {
      const [broken] = report.findings.filter((f) => f.id === 'store.broken-closure' && f.evidence['path'] === victim);
      assert.ok(broken, victim);
      const expected = referrersOf.get(victim)!.filter((p) => copied.has(p) || store.upper.paths.includes(p));
      assert.equal(broken.evidence['referrerCount'], expected.length);
      const listed = broken.evidence['referrers'] as string[];
      assert.equal(listed.length, Math.min(expected.length, 20));
      for (const referrer of listed) assert.ok(expected.includes(referrer), referrer);
    }
  });

  it('aborting before it finishes gives a partial report', async () => {
    const controller = new AbortController();
    const running = audit(controller.signal);
    controller.abort(new Error('interrupted'));
    const report = await running;
    assert.equal(report.partial, true);
    assert.ok(report.interruptedIn !== undefined);
  });
});
