import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  checkInNamespace,
  idsAt,
  makeLowerStore,
  makeScenarioDir,
  nixVerdictOf,
  recordComparison,
  requireMountScenario,
  shQuote,
} from '../support/mount-scenario.ts';

describe('check: a symlinked upper-layer path in the configuration', function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('symlink');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['real-upper', 'work', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.symlinkSync('real-upper', path.join(dir, 'upper-link'));
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is the same directory as the mounted upperdir once resolved', () => {
    const options = `lowerdir=${dir}/lower/nix/store,upperdir=${dir}/real-upper,workdir=${dir}/work`;
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(options)} ${shQuote(`${dir}/merged/nix/store`)}`, [
      '--store',
      `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper-link&check-mount=false`,
    ]);
    assert.equal(run.code, 0, JSON.stringify(run.report.findings, null, 2));
    assert.deepEqual(idsAt(run, 'error'), []);
    assert.ok(idsAt(run, 'info').includes('mount.ok'));
    assert.equal(run.report.layout.upperLayer, `${dir}/upper-link`);
    const nix = nixVerdictOf(run);
    assert.equal(nix.accepted, false);
    assert.equal(nix.upperdirMatched, false);
    recordComparison(90, 'upper-layer given through a symlink', run);
  });

  it('still tells a really different upperdir apart', () => {
    fs.mkdirSync(path.join(dir, 'other-upper'), { recursive: true });
    const options = `lowerdir=${dir}/lower/nix/store,upperdir=${dir}/other-upper,workdir=${dir}/work`;
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(options)} ${shQuote(`${dir}/merged/nix/store`)}`, [
      '--store',
      `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper-link&check-mount=false`,
    ]);
    assert.equal(run.code, 1);
    assert.deepEqual(idsAt(run, 'error'), ['mount.upper-mismatch']);
  });
});
