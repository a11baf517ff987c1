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

describe('check: a read-only overlay', function () {
  let dir = '';
  let url = '';
  let overlay = '';

  before(function () {
    requireMountScenario(this);
    dir = makeScenarioDir('read-only');
    makeLowerStore(path.join(dir, 'lower'), path.join(dir, 'src'));
    for (const d of ['upper', 'work', 'merged/nix/store']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    url = `local-overlay://?root=${dir}/merged&lower-store=${dir}/lower&upper-layer=${dir}/upper&check-mount=false`;
    overlay = `lowerdir=${dir}/lower/nix/store,upperdir=${dir}/upper,workdir=${dir}/work`;
  });

  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is an error when mounted -o ro (mount and superblock read-only)', () => {
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(`ro,${overlay}`)} ${shQuote(`${dir}/merged/nix/store`)}`, ['--store', url]);
    assert.equal(run.code, 1);
    assert.deepEqual(idsAt(run, 'error'), ['mount.read-only']);
    const f = findingOf(run, 'mount.read-only');
    assert.equal(f.evidence['mountReadOnly'], true);
    assert.equal(f.evidence['superblockReadOnly'], true);
    assert.equal(nixVerdictOf(run).accepted, true);
    recordComparison(70, 'read-only overlay (-o ro)', run);
  });

  it('is an error when only the mount is read-only (bind remount ro)', () => {
    const merged = shQuote(`${dir}/merged/nix/store`);
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(overlay)} ${merged}\nmount -o remount,bind,ro ${merged}`, ['--store', url]);
    assert.equal(run.code, 1);
    const f = findingOf(run, 'mount.read-only');
    assert.equal(f.evidence['mountReadOnly'], true);
    assert.equal(f.evidence['superblockReadOnly'], false);
  });

  it('passes when the configuration expects a read-only store', () => {
    const config = path.join(dir, 'read-only.yaml');
    fs.writeFileSync(config, 'checks:\n  expectReadOnly: true\n', { mode: 0o600 });
    const run = checkInNamespace(`mount -t overlay overlay -o ${shQuote(`ro,${overlay}`)} ${shQuote(`${dir}/merged/nix/store`)}`, [
      '--config',
      config,
      '--store',
      url,
    ]);
    assert.equal(run.code, 0, JSON.stringify(run.report.findings, null, 2));
    assert.deepEqual(idsAt(run, 'error'), []);
    assert.ok(idsAt(run, 'info').includes('mount.ok'));
  });
});
