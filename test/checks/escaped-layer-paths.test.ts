import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { percentEncode } from '../../agent/store/index.ts';
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

// The merged dir has a space (mountinfo shows \040), the lower store's root a colon (escaped as \: in lowerdir=),
// the upper layer a backslash (\\ in upperdir=, shown as \134\134). Nix pastes the paths into its regexes
// unescaped, so it cannot match them.
describe('check: layer paths with a space, a colon and a backslash', function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('escaped');
    makeLowerStore(path.join(dir, 'lower-tmp'), path.join(dir, 'src'));
    // Nix's DB names paths by the logical store dir, so the store's root can be renamed to hold a colon.
    fs.renameSync(path.join(dir, 'lower-tmp'), path.join(dir, 'col:on'));
    for (const d of ['back\\slash', 'work', 'sp ace/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the escapes and passes, where Nix finds no overlay line', () => {
    const options = `lowerdir=${dir}/col\\:on/nix/store,upperdir=${dir}/back\\\\slash,workdir=${dir}/work`;
    const url = `local-overlay://?root=${percentEncode(`${dir}/sp ace`)}&lower-store=${percentEncode(`${dir}/col:on`)}&upper-layer=${percentEncode(`${dir}/back\\slash`)}&check-mount=false`;
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(options)} ${shQuote(`${dir}/sp ace/nix/store`)}`, ['--store', url]);
    assert.equal(run.code, 0, JSON.stringify(run.report.findings, null, 2));
    assert.deepEqual(idsAt(run, 'error'), []);
    assert.ok(idsAt(run, 'info').includes('mount.ok'));
    assert.match(run.report.mount.overlayLine ?? '', /sp\\040ace\/nix\/store .*col\\134:on.*back\\134\\134slash/);
    const nix = nixVerdictOf(run);
    assert.equal(nix.accepted, false);
    assert.equal(nix.matchedLine, undefined);
    recordComparison(40, 'paths with a space, a colon and a backslash', run);
  });
});
