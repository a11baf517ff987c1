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

// lowerdir+= (Linux >= 6.8): util-linux 2.38 passes it through mount(2) and this kernel takes it, so the mount is
// real; test/fixtures/mountinfo/lowerdir-plus.txt holds a captured one with datadir+= too.
describe('check: layers given with lowerdir+=', function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('lowerdir-plus');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['modules', 'upper', 'work', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds the lower store among them and lists the other layer', function () {
    const options = `lowerdir+=${dir}/lower/nix/store,lowerdir+=${dir}/modules,upperdir=${dir}/upper,workdir=${dir}/work`;
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(options)} ${shQuote(`${dir}/merged/nix/store`)}`, [
      '--store',
      `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper&check-mount=false`,
    ]);
    assert.match(run.report.mount.overlayLine ?? '', /lowerdir\+=/, 'the kernel did not keep lowerdir+=');
    assert.equal(run.code, 0, JSON.stringify(run.report.findings, null, 2));
    assert.deepEqual(idsAt(run, 'error'), []);
    const extra = findingOf(run, 'mount.extra-lower-layers');
    assert.deepEqual(
      (extra.evidence['extraLayers'] as Array<{ path: string; option: string }>).map((l) => [l.option, l.path]),
      [['lowerdir+', `${dir}/modules`]],
    );
    assert.ok(idsAt(run, 'info').includes('mount.ok'));
    assert.equal(nixVerdictOf(run).accepted, false);
    recordComparison(100, 'layers given with lowerdir+=', run);
  });
});
