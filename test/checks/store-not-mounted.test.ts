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
} from '../support/mount-scenario.ts';

describe('check: a store dir with nothing mounted is an error', function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('not-mounted');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['upper', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says the merged dir is a plain directory and how to mount it', () => {
    const run = checkInNamespace(':', ['--store', `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper&check-mount=false`]);
    assert.equal(run.code, 1);
    assert.deepEqual(idsAt(run, 'error'), ['mount.not-mounted']);
    const f = findingOf(run, 'mount.not-mounted');
    assert.equal(f.evidence['expected'], `${dir}/merged/nix/store`);
    assert.match(f.message, /plain directory on the \S+ mount at /);
    assert.match(f.hint ?? '', new RegExp(`lowerdir=${dir}/lower/nix/store,upperdir=${dir}/upper`));
    assert.equal(run.report.mount.visibleLine, null);
    assert.equal(nixVerdictOf(run).accepted, false);
    recordComparison(60, 'nothing mounted at the store dir', run);
  });
});
