import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../agent/cli/run-cli.ts';
import { createNixDb } from '../../agent/demo/nix-db-writer.ts';
import { FINDING_IDS } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { parseEnvelope, reportOf } from '../support/json-output.ts';

// `check` on saved mount tables (--mountinfo): no mounting needed, the layers are real directories.
describe('overlay-warden check', () => {
  let dir = '';
  let store = '';
  let table = '';

  before(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-cli-check-')));
    for (const d of ['lower/nix/store', 'upper', 'work', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    // A Nix DB with no paths (Nix's schema, as Nix makes it): the lower store's DB only has to be one.
    createNixDb(path.join(dir, 'lower/nix/var/nix')).finish();
    store = `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper`;
    table = [
      '1 0 254:0 / / rw,relatime - ext4 /dev/vda rw',
      `20 1 0:40 / ${dir}/merged/nix/store rw,relatime - overlay overlay rw,lowerdir=${dir}/lower/nix/store,upperdir=${dir}/upper,workdir=${dir}/work`,
      `21 1 0:41 / ${dir}/lower ro,relatime - tmpfs lower-ro ro`,
    ].join('\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function saved(name: string, ...extra: string[]): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `${[table, ...extra].join('\n')}\n`);
    return file;
  }

  it('--json: exit 0, the documented shape, info only for a correct mount', async () => {
    const run = await runCliCaptured(['check', '--json', '--store', store, '--mountinfo', saved('good.txt')]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const envelope = parseEnvelope(run.stdout, 'check');
    assert.deepEqual(Object.keys(envelope), ['command', 'ok', 'exitCode', 'findings', 'result', 'error']);
    assert.deepEqual(Object.keys(envelope.result!), ['checks', 'layout', 'mount']);
    const report = reportOf<{
      findings: Array<Record<string, unknown>>;
      checks: Array<{ id: string; ok: boolean }>;
      layout: { mergedStoreDir: string };
      mount: { nixCheckMount: { accepted: boolean } };
    }>(run.stdout);
    assert.deepEqual(
      report.findings.map((f) => f['id']),
      ['layer.lower-read-only', 'layer.upper-db-absent', 'mount.ok'],
    );
    for (const f of report.findings) {
      assert.deepEqual(
        Object.keys(f).filter((k) => k !== 'hint'),
        ['id', 'severity', 'message', 'evidence'],
      );
      assert.ok((FINDING_IDS as readonly unknown[]).includes(f['id']));
    }
    assert.ok(report.checks.length >= 9 && report.checks.every((c) => c.ok));
    assert.equal(report.layout.mergedStoreDir, `${dir}/merged/nix/store`);
    assert.equal(report.mount.nixCheckMount.accepted, true);
  });

  it('exit 1 with an error-level finding (a tmpfs stacked on the overlay)', async () => {
    const run = await runCliCaptured([
      'check',
      '--json',
      '--store',
      store,
      '--mountinfo',
      saved('stacked.txt', `22 20 0:42 / ${dir}/merged/nix/store rw - tmpfs stacked-fs rw`),
    ]);
    assert.equal(run.code, 1);
    const report = reportOf(run.stdout, 'check');
    assert.deepEqual(
      report.findings.filter((f) => f.severity === 'error').map((f) => f.id),
      ['mount.stacked'],
    );
  });

  it('exit 1 with mount.mountinfo-unreadable for a missing table', async () => {
    const run = await runCliCaptured(['check', '--json', '--store', store, '--mountinfo', path.join(dir, 'nope.txt')]);
    assert.equal(run.code, 1);
    assert.ok(reportOf(run.stdout, 'check').findings.some((f) => f.id === 'mount.mountinfo-unreadable'));
  });

  it('exit 2 for bad usage and for a bad store URL', async () => {
    assert.equal((await runCliCaptured(['check', '--bogus'])).code, 2);
    const bad = await runCliCaptured(['check', '--store', 'local-overlay://?root=relative&upper-layer=/u']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /CONFIG_STORE/);
  });

  it('prints a report grouped by severity, with evidence and hints, uncoloured off a TTY', async () => {
    const run = await runCliCaptured([
      'check',
      '--store',
      store,
      '--mountinfo',
      saved('human.txt', `22 20 0:42 / ${dir}/merged/nix/store rw - tmpfs stacked-fs rw`),
    ]);
    assert.equal(run.code, 1);
    const out = run.stdout;
    assert.doesNotMatch(out, /\x1b\[/);
    assert.ok(out.indexOf('errors (1)') < out.indexOf('info ('));
    assert.match(out, /✗ mount\.stacked: /);
    assert.match(out, /\n {6}mountinfo: 22 20 0:42 /);
    assert.match(out, /\n {6}hint: unmount what is stacked/);
    assert.match(out, /FAILED: 1 error, 0 warnings, 2 info; \d+ checks in /);
  });

  it('colours the report on a TTY unless NO_COLOR is set', async () => {
    const capture = async (env: Record<string, string>): Promise<string> => {
      let stdout = '';
      await runCli(['check', '--store', store, '--mountinfo', saved('tty.txt')], {
        stdout: { write: (t: string) => (stdout += t), isTTY: true },
        stderr: { write: () => true, isTTY: true },
        env,
      });
      return stdout;
    };
    assert.match(await capture({}), /\x1b\[/);
    assert.doesNotMatch(await capture({ NO_COLOR: '1' }), /\x1b\[/);
  });
});
