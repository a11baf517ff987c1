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

describe('check: a tmpfs stacked on the overlay is an error', function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('stacked');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['upper', 'work', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports the stacked tmpfs with both lines, which Nix misses', () => {
    const merged = shQuote(`${dir}/merged/nix/store`);
    const script = `mount -t overlay overlay -o ${shQuote(`lowerdir=${dir}/lower/nix/store,upperdir=${dir}/upper,workdir=${dir}/work`)} ${merged}\nmount -t tmpfs stacked-fs ${merged}`;
    const run = checkInNamespace(script, [
      '--store',
      `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper&check-mount=false`,
    ]);
    assert.equal(run.code, 1);
    assert.deepEqual(idsAt(run, 'error'), ['mount.stacked']);
    const f = findingOf(run, 'mount.stacked');
    assert.match(String(f.evidence['mountinfo']), / - tmpfs stacked-fs /);
    assert.match(String(f.evidence['overlay']), / - overlay overlay /);
    assert.equal((f.evidence['stackedMounts'] as string[]).length, 1);
    assert.ok(!idsAt(run, 'info').includes('mount.ok'));
    // Nix keeps the last line starting "overlay MERGED ": the tmpfs line starts with its source, so Nix sees the hidden overlay.
    assert.equal(nixVerdictOf(run).accepted, true);
    recordComparison(50, 'a tmpfs stacked on the overlay', run);
  });
});
