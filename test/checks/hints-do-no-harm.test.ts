/**
 * Hints that are followed do what they say and nothing worse, on real mounts in private namespaces: making a
 * writable lower store read-only leaves the filesystem it sits on (here the host's root) writable, and Nix's
 * check-mount is only to be switched off when the mount is right.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkInNamespace, findingOf, idsAt, makeLowerStore, makeScenarioDir, requireMountScenario, shQuote } from '../support/mount-scenario.ts';

describe('check: hints do no harm when followed', function () {
  let dir = '';
  let mount = '';
  const url = (lower: string, extra = ''): string =>
    `local-overlay://?root=${dir}/merged&lower-store=${encodeURIComponent(lower)}&upper-layer=${dir}/upper${extra}`;

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('hints');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['merged/nix/store', 'upper', 'work', 'modules']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    mount = `mount -t overlay overlay -o ${shQuote(`lowerdir=${dir}/lower/nix/store,upperdir=${dir}/upper,workdir=${dir}/work`)} ${shQuote(`${dir}/merged/nix/store`)}`;
  });
  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('layer.lower-writable: the hint makes the lower store dir read-only and leaves its filesystem writable', () => {
    const before = checkInNamespace(mount, ['--store', url(`${dir}/lower`)]);
    const writable = findingOf(before, 'layer.lower-writable');
    const mountPoint = String(writable.evidence['mountPoint']);
    assert.notEqual(mountPoint, `${dir}/lower/nix/store`, 'the store dir is on a larger filesystem (the scenario this test is about)');
    assert.doesNotMatch(
      writable.hint ?? '',
      new RegExp(`remount[^;]*${shQuote(mountPoint).replace(/[/.*+?^$()|[\]\\]/g, '\\$&')}`),
      'never remount that filesystem',
    );
    const command = /mount --bind .* && mount -o remount,bind,ro '[^']*'/.exec(writable.hint ?? '')?.[0];
    assert.ok(command, writable.hint);
    const after = checkInNamespace(`${mount}\n${command}`, ['--store', url(`${dir}/lower`)]);
    assert.equal(findingOf(after, 'layer.lower-read-only').evidence['mountPoint'], `${dir}/lower/nix/store`);
    const fsLine = after.procMounts.split('\n').find((l) => l.split(' ')[1] === mountPoint);
    assert.match(fsLine ?? '', /^\S+ \S+ \S+ rw[, ]/, `the filesystem at ${mountPoint} stays writable`);
  });

  it('a typo in lower-store: Nix refuses too, and the hint says to fix lower-store, not to switch check-mount off', () => {
    const run = checkInNamespace(mount, ['--store', url(`${dir}/lowr`)]);
    assert.ok(idsAt(run, 'error').includes('mount.lower-missing'));
    const f = findingOf(run, 'mount.nix-check-mount-refuses');
    assert.equal(f.evidence['mountAsConfigured'], false);
    assert.doesNotMatch(f.hint ?? '', /check-mount=false/);
    assert.match(f.hint ?? '', /`lower-store`/);
  });

  it('a right mount Nix cannot read (an extra lowerdir): the hint is check-mount=false', () => {
    const twoLayers = mount.replace(`lowerdir=${dir}/lower/nix/store`, `lowerdir=${dir}/lower/nix/store:${dir}/modules`);
    const run = checkInNamespace(twoLayers, ['--store', url(`${dir}/lower`)]);
    assert.deepEqual(
      idsAt(run, 'error').filter((id) => id.startsWith('mount.')),
      ['mount.nix-check-mount-refuses'],
    );
    const f = findingOf(run, 'mount.nix-check-mount-refuses');
    assert.equal(f.evidence['mountAsConfigured'], true);
    assert.match(f.hint ?? '', /check-mount=false/);
  });
});
