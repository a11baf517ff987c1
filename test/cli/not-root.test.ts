/** Commands run by a user other than root: those that need root say so in one line (exit 2); `check` says what it could not judge. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRootFor } from '../../agent/cli/needs-root.ts';
import { UsageError } from '../../agent/cli/usage-error.ts';
import { AS_NOBODY } from '../support/as-nobody.ts';
import { runCliProcess } from '../support/cli-run.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

describe('requireRootFor', () => {
  it('lets root through and refuses anyone else, naming the command, why it needs root, and the fix', () => {
    requireRootFor('run', 'it mounts and remounts the overlay', 0);
    assert.throws(
      () => requireRootFor('run', 'it mounts and remounts the overlay', 1000),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.deepEqual(
          [error.code, error.message, error.evidence, error.hint],
          [
            'USAGE_NOT_ROOT',
            'overlay-warden run needs root (it mounts and remounts the overlay): run it as root, e.g. sudo overlay-warden run',
            { command: 'run', uid: 1000 },
            undefined,
          ],
        );
        return true;
      },
    );
  });
});

describe('commands run as user nobody', function () {
  let dir: string;
  let store: string;
  before(function () {
    requireRoot(this); // to switch to an unprivileged user
    requireCommand(this, 'setpriv');
    dir = mkdtempSync(join(tmpdir(), 'ow-not-root-'));
    chmodSync(dir, 0o755);
    // Root's directories, as on a real host: nobody may read them, and may write none of them.
    for (const sub of ['lower/nix/store', 'upper', 'merged']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
    store = `local-overlay://?root=${dir}/merged&lower-store=${encodeURIComponent(`${dir}/lower`)}&upper-layer=${dir}/upper&check-mount=false`;
  });
  after(() => dir !== undefined && rmSync(dir, { recursive: true, force: true }));

  const asNobody = (argv: readonly string[]): ReturnType<typeof runCliProcess> =>
    runCliProcess([...argv, '--store', store, '--state-dir', join(dir, 'state')], { prefix: AS_NOBODY });

  const refusals: ReadonlyArray<readonly [readonly string[], string]> = [
    [['run'], 'overlay-warden run needs root (it mounts and remounts the overlay): run it as root, e.g. sudo overlay-warden run'],
    [
      ['remount', '--direct'],
      'overlay-warden remount --direct needs root (it remounts the overlay itself): run it as root, e.g. sudo overlay-warden remount --direct',
    ],
  ];
  for (const [argv, message] of refusals) {
    it(`overlay-warden ${argv.join(' ')}: one line naming the cause and the fix, exit 2`, () => {
      const run = asNobody(argv);
      assert.deepEqual([run.status, run.stdout, run.stderr], [2, '', `overlay-warden: ${message} [USAGE_NOT_ROOT]\n`]);
    });
  }

  it('overlay-warden check: an upper layer only root may write is no finding about the layer; the check says it ran unprivileged', () => {
    const ids = (stdout: string): string[] => (JSON.parse(stdout) as { findings: Array<{ id: string }> }).findings.map((f) => f.id);
    const run = asNobody(['check', '--json']);
    const found = JSON.parse(run.stdout) as { findings: Array<{ id: string; severity: string; message: string; evidence: Record<string, unknown> }> };
    const unprivileged = found.findings.find((f) => f.id === 'check.unprivileged');
    assert.ok(unprivileged, run.stdout);
    assert.equal(unprivileged.severity, 'warning');
    assert.deepEqual([unprivileged.evidence['uid'], unprivileged.evidence['path']], [65534, join(dir, 'upper')]);
    assert.match(unprivileged.message, /could not judge whether root can write the upper layer/);
    assert.ok(!ids(run.stdout).includes('layer.upper-not-writable'), run.stdout);
    // Root, on the same layers, has nothing to say about either.
    const asRoot = runCliProcess(['check', '--json', '--store', store, '--state-dir', join(dir, 'state')]);
    assert.deepEqual(
      ids(asRoot.stdout).filter((id) => id === 'check.unprivileged' || id === 'layer.upper-not-writable'),
      [],
    );
  });
});
