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

describe('check: the lower store as second lowerdir is a warning', function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('lower-second');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['extra', 'upper', 'work', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('warns that the layer above shadows the lower store, and still passes', () => {
    const options = `lowerdir=${dir}/extra:${dir}/lower/nix/store,upperdir=${dir}/upper,workdir=${dir}/work`;
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(options)} ${shQuote(`${dir}/merged/nix/store`)}`, [
      '--store',
      `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper&check-mount=false`,
    ]);
    assert.equal(run.code, 0);
    assert.deepEqual(idsAt(run, 'error'), []);
    const f = findingOf(run, 'mount.lower-not-first');
    assert.equal(f.severity, 'warning');
    assert.deepEqual(
      (f.evidence['layersAbove'] as Array<{ path: string }>).map((l) => l.path),
      [`${dir}/extra`],
    );
    assert.equal(f.evidence['actual'], 'lower layer 2');
    assert.ok(!idsAt(run, 'info').includes('mount.ok'));
    assert.equal(nixVerdictOf(run).accepted, false);
    recordComparison(30, 'lower store as the 2nd lowerdir', run);
  });
});
