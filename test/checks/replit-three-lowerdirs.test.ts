import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { percentEncode } from '../../agent/store/index.ts';
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

// Replit's public setup (../shared/DOMAIN.md): the lower store /mnt/cacache (read-only), a modules layer, and the
// image's own /nix/store under the overlay mounted on /nix/store itself; upper and work on their own filesystem;
// xino=off. Their mount also shows `nouserxattr`, which this kernel refuses as an option (the pure tests read a
// line with it). Nix's check-mount cannot cope, so they set check-mount=false.
describe("check: Replit's mount with three lowerdirs is ok, the extra layers listed", function () {
  let dir = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('replit');
    makeLowerStore(path.join(dir, 'mnt/cacache'), path.join(dir, 'src'));
    for (const d of ['mnt/nixmodules/nix/store/module-x', 'nix/store/from-image', 'mnt/nix', 'nix/var/nix'])
      fs.mkdirSync(path.join(dir, d), { recursive: true });
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes with the lower store first, lists the module and image layers, and sees the read-only lower', () => {
    const q = (p: string): string => shQuote(path.join(dir, p));
    const lowerdir = ['mnt/cacache/nix/store', 'mnt/nixmodules/nix/store', 'nix/store'].map((p) => path.join(dir, p)).join(':');
    const script = [
      `mount --bind ${q('mnt/cacache')} ${q('mnt/cacache')}`,
      `mount -o remount,bind,ro ${q('mnt/cacache')}`,
      `mount -t tmpfs -o size=64m upper-fs ${q('mnt/nix')}`,
      `mkdir -p ${q('mnt/nix/store')} ${q('mnt/nix/work/store')}`,
      `mount -t overlay overlay -o ${shQuote(`lowerdir=${lowerdir},upperdir=${dir}/mnt/nix/store,workdir=${dir}/mnt/nix/work/store,xino=off`)} ${q('nix/store')}`,
    ].join('\n');
    const url = `local-overlay?lower-store=${percentEncode(`${dir}/mnt/cacache?read-only=true`)}&upper-layer=${dir}/mnt/nix/store&check-mount=false&real=${dir}/nix/store&state=${dir}/nix/var/nix`;
    const run = checkInNamespace(script, ['--store', url]);
    assert.equal(run.code, 0, JSON.stringify(run.report.findings, null, 2));
    assert.deepEqual(idsAt(run, 'error'), []);
    assert.deepEqual(idsAt(run, 'warning'), []);
    const extra = findingOf(run, 'mount.extra-lower-layers');
    assert.deepEqual(
      (extra.evidence['extraLayers'] as Array<{ path: string; position: number }>).map((l) => [l.position, l.path]),
      [
        [2, `${dir}/mnt/nixmodules/nix/store`],
        [3, `${dir}/nix/store`],
      ],
    );
    assert.equal(extra.evidence['lowerStoreLayer'], 1);
    assert.ok(idsAt(run, 'info').includes('layer.lower-read-only'));
    assert.ok(idsAt(run, 'info').includes('mount.ok'));
    // Nix's regex needs `lowerdir=LOWER` followed by a space or comma: three layers fail it.
    const nix = nixVerdictOf(run);
    assert.equal(nix.accepted, false);
    assert.equal(nix.lowerdirMatched, false);
    assert.equal(nix.upperdirMatched, true);
    recordComparison(20, "Replit's mount: three lowerdirs, xino=off", run);
  });
});
