import assert from 'node:assert/strict';
import path from 'node:path';
import type { Check } from '../../agent/checks/check.ts';
import { MOUNT_CHECKS, enabledChecks } from '../../agent/checks/registry.ts';
import { runChecks } from '../../agent/checks/run-checks.ts';
import { gatherCheckContext, runMountCheck } from '../../agent/checks/run-mount-check.ts';
import { loadConfig } from '../../agent/config/index.ts';
import { FIXTURE_DIR } from '../mount/fixtures.ts';
import { fixtureUrl } from './literal-facts.ts';

describe('mount check registry and run', () => {
  it('lists every check once, mount checks before layer checks, all on by default', () => {
    const ids = MOUNT_CHECKS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids, ['mount.merged', 'mount.lower', 'mount.upper', 'mount.options', 'mount.nix-check-mount', 'mount.nix-conf', 'mount.summary', 'layer.lower', 'layer.upper', 'layer.upper-db']);
    assert.equal(enabledChecks().length, MOUNT_CHECKS.length);
  });

  it('runs every check on a saved table, one outcome each', async () => {
    const config = loadConfig({ flags: { store: `${fixtureUrl('lower-second')}&check-mount=false`, mountinfo: path.join(FIXTURE_DIR, 'lower-second.txt') }, env: {} });
    const report = await runMountCheck(config, {}, new AbortController().signal);
    assert.deepEqual(report.checks.map((c) => c.id), MOUNT_CHECKS.map((c) => c.id));
    assert.ok(report.checks.every((c) => c.ok && c.durationMs >= 0));
    assert.ok(report.findings.some((f) => f.id === 'mount.lower-not-first'));
    // Errors come first.
    const severities = report.findings.map((f) => f.severity);
    assert.deepEqual(severities, [...severities].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)));
  });

  it('a check that throws becomes check.failed and the others still run', async () => {
    const config = loadConfig({ flags: { store: fixtureUrl('stacked'), mountinfo: path.join(FIXTURE_DIR, 'stacked.txt') }, env: {} });
    const context = await gatherCheckContext(config, {});
    const broken: Check = { id: 'test.broken', title: 'broken', defaultEnabled: true, run: () => { throw new Error('boom'); } };
    const report = await runChecks([broken, ...MOUNT_CHECKS], context, new AbortController().signal);
    assert.equal(report.checks[0]?.ok, false);
    assert.ok(report.findings.some((f) => f.id === 'check.failed' && /boom/.test(f.message)));
    assert.ok(report.findings.some((f) => f.id === 'mount.stacked'));
  });

  it('rejects at once when already aborted', async () => {
    const config = loadConfig({ flags: { store: fixtureUrl('stacked'), mountinfo: path.join(FIXTURE_DIR, 'stacked.txt') }, env: {} });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(runMountCheck(config, {}, controller.signal), /stop/);
  });
});
