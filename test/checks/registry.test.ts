import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Check } from '../../agent/checks/check.ts';
import { CHECK_IDS } from '../../agent/findings/index.ts';
import { MOUNT_CHECKS, enabledChecks } from '../../agent/checks/registry.ts';
import { runChecks } from '../../agent/checks/run-checks.ts';
import { gatherCheckContext, runMountCheck } from '../../agent/checks/run-mount-check.ts';
import { loadConfig } from '../../agent/config/index.ts';
import { FIXTURE_DIR } from '../mount/fixtures.ts';
import { fixtureUrl } from './literal-facts.ts';

describe('mount check registry and run', () => {
  it('lists every check once, mount checks before layer checks, in CHECK_IDS order', () => {
    const ids = MOUNT_CHECKS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids, CHECK_IDS);
  });

  it('the README names every check id, in the order the checks run (they are public: `checks.disable`, metric labels)', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sentence = /The ids, in the order the checks run:([^;]*);/.exec(readme);
    assert.ok(sentence, 'the README lists the check ids');
    assert.deepEqual(
      [...sentence[1]!.matchAll(/`([a-z.-]+)`/g)].map((m) => m[1]),
      CHECK_IDS,
    );
  });

  it('runs every check unless checks.disable lists it', () => {
    assert.deepEqual(enabledChecks([]), MOUNT_CHECKS);
    assert.deepEqual(
      enabledChecks(['mount.nix-conf', 'layer.upper-db']).map((c) => c.id),
      CHECK_IDS.filter((id) => id !== 'mount.nix-conf' && id !== 'layer.upper-db'),
    );
  });

  it('leaves out the checks the configuration disables, their findings and their outcomes', async () => {
    const flags = { store: `${fixtureUrl('lower-second')}&check-mount=false`, mountinfo: path.join(FIXTURE_DIR, 'lower-second.txt') };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-checks-'));
    try {
      const file = path.join(dir, 'config.yaml');
      fs.writeFileSync(file, 'checks:\n  disable: [mount.lower, layer.upper-db]\n', { mode: 0o600 });
      const all = await runMountCheck(loadConfig({ flags, env: {} }), {}, new AbortController().signal);
      const some = await runMountCheck(loadConfig({ flags: { ...flags, config: file }, env: {} }), {}, new AbortController().signal);
      assert.deepEqual(
        some.checks.map((c) => c.id),
        CHECK_IDS.filter((id) => id !== 'mount.lower' && id !== 'layer.upper-db'),
      );
      const ids = (report: typeof all): string[] => report.findings.map((f) => f.id);
      // mount.lower says where the lower layer is, layer.upper-db that the upper DB is absent; the other checks still run.
      assert.ok(ids(all).includes('mount.lower-not-first') && ids(all).includes('layer.upper-db-absent'));
      assert.deepEqual(
        ids(some),
        ids(all).filter((id) => id !== 'mount.lower-not-first' && id !== 'mount.extra-lower-layers' && id !== 'layer.upper-db-absent'),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs every check on a saved table, one outcome each', async () => {
    const config = loadConfig({
      flags: { store: `${fixtureUrl('lower-second')}&check-mount=false`, mountinfo: path.join(FIXTURE_DIR, 'lower-second.txt') },
      env: {},
    });
    const report = await runMountCheck(config, {}, new AbortController().signal);
    assert.deepEqual(
      report.checks.map((c) => c.id),
      MOUNT_CHECKS.map((c) => c.id),
    );
    assert.ok(report.checks.every((c) => c.ok && c.durationMs >= 0));
    assert.ok(report.findings.some((f) => f.id === 'mount.lower-not-first'));
    // Errors come first.
    const severities = report.findings.map((f) => f.severity);
    assert.deepEqual(
      severities,
      [...severities].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)),
    );
  });

  it('a check that throws becomes check.failed and the others still run', async () => {
    const config = loadConfig({ flags: { store: fixtureUrl('stacked'), mountinfo: path.join(FIXTURE_DIR, 'stacked.txt') }, env: {} });
    const context = await gatherCheckContext(config, {});
    const broken: Check = {
      id: 'test.broken',
      title: 'broken',
      run: () => {
        throw new Error('boom');
      },
    };
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
