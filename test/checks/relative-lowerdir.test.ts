import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  checkInNamespace,
  findingOf,
  idsAt,
  makeLowerStore,
  makeScenarioDir,
  nixVerdictOf,
  recordComparison,
  requireMountScenario,
  shQuote,
} from '../support/mount-scenario.ts';

// The kernel keeps relative layer paths as the mounter gave them and records no working directory; the check
// infers it from the configured lower store dir (a suffix match) and says so.
describe('check: a relative lowerdir given at mount time', function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('relative');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['upper', 'work', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resolves it against the inferred working directory and passes, saying how', () => {
    const script = `cd ${shQuote(dir)}\nmount -t overlay overlay -o lowerdir=./lower/nix/store,upperdir=upper,workdir=work merged/nix/store`;
    const run = checkInNamespace(script, [
      '--store',
      `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper&check-mount=false`,
    ]);
    assert.equal(run.code, 0, JSON.stringify(run.report.findings, null, 2));
    assert.deepEqual(idsAt(run, 'error'), []);
    assert.deepEqual(
      idsAt(run, 'warning').filter((id) => id.startsWith('mount.')),
      [],
    );
    const f = findingOf(run, 'mount.relative-layer-paths');
    assert.equal(f.evidence['mounterCwd'], dir);
    assert.deepEqual(
      (f.evidence['relativePaths'] as Array<{ given: string; resolved: string; how: string }>).map((p) => [p.given, p.resolved, p.how]),
      [
        ['./lower/nix/store', `${dir}/lower/nix/store`, 'relative-resolved'],
        ['upper', `${dir}/upper`, 'relative-resolved'],
        ['work', `${dir}/work`, 'relative-resolved'],
      ],
    );
    assert.ok(idsAt(run, 'info').includes('mount.ok'));
    assert.equal(nixVerdictOf(run).accepted, false);
    recordComparison(80, 'relative lowerdir, upperdir, workdir at mount time', run);
  });
});
