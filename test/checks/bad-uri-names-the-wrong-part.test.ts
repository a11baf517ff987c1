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
  type CheckRun,
} from '../support/mount-scenario.ts';

// Nix's tests/functional/local-overlay-store/bad-uris.sh: one correct overlay, then store URLs whose root, lower
// store or upper layer point elsewhere. Nix says only "overlay filesystem … mounted incorrectly"; the check must
// name the part that is wrong.
describe('check: bad store URIs name the wrong part (Nix bad-uris scenario)', function () {
  let dir = '';
  let storeA = '';
  let storeBTop = '';
  let storeBRoot = '';
  let bad = '';
  let mount = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('bad-uri');
    storeA = path.join(dir, 'store-a');
    storeBTop = path.join(dir, 'store-b');
    storeBRoot = path.join(dir, 'merged-store');
    bad = path.join(dir, 'bad_test');
    for (const d of [storeBTop, path.join(storeBRoot, 'nix/store'), path.join(dir, 'workdir'), bad]) fs.mkdirSync(d, { recursive: true });
    makeLowerStore(storeA, path.join(dir, 'src'));
    mount = `mount -t overlay overlay -o lowerdir=${shQuote(`${storeA}/nix/store`)},upperdir=${shQuote(storeBTop)},workdir=${shQuote(`${dir}/workdir`)} ${shQuote(`${storeBRoot}/nix/store`)}`;
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  const url = (root: string, lower: string, upper: string): string => `local-overlay://?root=${root}&lower-store=${lower}&upper-layer=${upper}`;
  const mountErrors = (run: CheckRun): string[] => idsAt(run, 'error').filter((id) => id.startsWith('mount.') && id !== 'mount.nix-check-mount-refuses');

  it('accepts the correct URI, as Nix does', () => {
    const run = checkInNamespace(mount, ['--store', url(storeBRoot, storeA, storeBTop)]);
    assert.equal(run.code, 0, JSON.stringify(run.report.findings, null, 2));
    assert.deepEqual(idsAt(run, 'error'), []);
    assert.ok(idsAt(run, 'info').includes('mount.ok'));
    assert.equal(nixVerdictOf(run).accepted, true);
    recordComparison(10, "Nix's bad-uris setup, correct URI", run);
  });

  it('names `root` when the merged store dir is wrong, and says where the overlay is', () => {
    const run = checkInNamespace(mount, ['--store', url(bad, storeA, storeBTop)]);
    assert.equal(run.code, 1);
    assert.deepEqual(mountErrors(run), ['mount.not-mounted']);
    const f = findingOf(run, 'mount.not-mounted');
    assert.equal(f.evidence['setting'], 'root');
    assert.equal(f.evidence['expected'], `${bad}/nix/store`);
    assert.match(f.message, new RegExp(`mounted at ${storeBRoot}/nix/store instead`));
    assert.match(String((f.evidence['overlaysWithTheseLayers'] as string[])[0]), new RegExp(` ${storeBRoot}/nix/store `));
    assert.equal(nixVerdictOf(run).accepted, false);
    recordComparison(11, "Nix's bad-uris: `root` elsewhere", run);
  });

  it('names `lower-store` when the lower store is not a lowerdir', () => {
    const run = checkInNamespace(mount, ['--store', url(storeBRoot, bad, storeBTop)]);
    assert.equal(run.code, 1);
    assert.deepEqual(mountErrors(run), ['mount.lower-missing']);
    const f = findingOf(run, 'mount.lower-missing');
    assert.equal(f.evidence['setting'], 'lower-store');
    assert.equal(f.evidence['expected'], `${bad}/nix/store`);
    assert.deepEqual(f.evidence['actual'], [`${storeA}/nix/store`]);
    // The bad lower store has no store dir or DB at all, which the layer check says too.
    assert.ok(idsAt(run, 'error').includes('layer.lower-store-missing'));
    assert.equal(nixVerdictOf(run).accepted, false);
    recordComparison(12, "Nix's bad-uris: `lower-store` elsewhere", run);
  });

  it('names `upper-layer` when the upperdir is another directory', () => {
    const run = checkInNamespace(mount, ['--store', url(storeBRoot, storeA, bad)]);
    assert.equal(run.code, 1);
    assert.deepEqual(mountErrors(run), ['mount.upper-mismatch']);
    const f = findingOf(run, 'mount.upper-mismatch');
    assert.equal(f.evidence['setting'], 'upper-layer');
    assert.equal(f.evidence['expected'], bad);
    assert.equal(f.evidence['actual'], storeBTop);
    assert.equal(nixVerdictOf(run).accepted, false);
    recordComparison(13, "Nix's bad-uris: `upper-layer` elsewhere", run);
  });

  it('also reports that Nix itself would refuse each bad URI (check-mount is on)', () => {
    const run = checkInNamespace(mount, ['--store', url(storeBRoot, storeA, bad)]);
    const f = findingOf(run, 'mount.nix-check-mount-refuses');
    assert.equal(f.evidence['upperdirMatched'], false);
    assert.equal(f.evidence['lowerdirMatched'], true);
  });
});
