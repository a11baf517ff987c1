import assert from 'node:assert/strict';
import { decideMountOptions } from '../../agent/checks/mount-options.ts';
import { percentEncode } from '../../agent/store/index.ts';
import { factsOf, fixtureFacts, fx, ids } from './literal-facts.ts';

/** The store URL for one of the captured overlay-options mounts: merged B/m-NAME, lower B/l, upper B/u-NAME (or tmp/u-NAME). */
function optionsUrl(name: string, upper = `${fx('overlay-options')}/u-${name}`): string {
  const b = fx('overlay-options');
  return `local-overlay://?real=${b}/m-${name}&lower-store=${percentEncode(`local?real=${b}/l`)}&upper-layer=${upper}`;
}
function readOnlyUrl(name: string, upper: string): string {
  const b = fx('read-only');
  return `local-overlay://?real=${b}/${name}&lower-store=${percentEncode(`local?real=${b}/l1`)}&upper-layer=${b}/${upper}`;
}
const NO_DEFAULTS = { index: false, metacopy: false, redirectDir: false, source: '/sys/module/overlay/parameters' };

describe('check mount.options (pure)', () => {
  it('mount.read-only (error) for an overlay mounted -o ro: mount and superblock (captured)', () => {
    const [f, ...rest] = decideMountOptions(fixtureFacts('read-only', readOnlyUrl('ro-both', 'upper/store')), false);
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.read-only');
    assert.equal(f?.severity, 'error');
    assert.equal(f?.evidence['mountReadOnly'], true);
    assert.equal(f?.evidence['superblockReadOnly'], true);
    assert.match(f?.hint ?? '', /mount -o remount,rw/);
  });

  it('mount.read-only for a bind remount ro (mount only) and for an overlay without upper layer (superblock only)', () => {
    const [bind] = decideMountOptions(fixtureFacts('read-only', readOnlyUrl('bind-ro', 'upper2/store')), false);
    assert.deepEqual([bind?.evidence['mountReadOnly'], bind?.evidence['superblockReadOnly']], [true, false]);
    const lowerOnly = decideMountOptions(fixtureFacts('read-only', readOnlyUrl('lower-only', 'upper/store')), false);
    assert.equal(lowerOnly[0]?.id, 'mount.read-only');
    assert.deepEqual([lowerOnly[0]?.evidence['mountReadOnly'], lowerOnly[0]?.evidence['superblockReadOnly']], [false, true]);
    assert.match(lowerOnly[0]?.message ?? '', /no upper layer/);
  });

  it('no read-only finding when the store is meant to be read-only; mount.not-read-only (warning) when it is not', () => {
    assert.deepEqual(decideMountOptions(fixtureFacts('read-only', readOnlyUrl('ro-both', 'upper/store')), true), []);
    const writable = decideMountOptions(fixtureFacts('overlay-options', optionsUrl('strict')), true);
    assert.deepEqual(ids(writable), ['mount.not-read-only']);
    assert.equal(writable[0]?.severity, 'warning');
  });

  it('mount.option-index for index=on (captured, with nfs_export)', () => {
    const found = decideMountOptions(fixtureFacts('overlay-options', optionsUrl('index')), false);
    assert.deepEqual(ids(found), ['mount.option-index']);
    assert.equal(found[0]?.severity, 'warning');
    assert.equal(found[0]?.evidence['from'], 'mount options');
  });

  it('mount.option-redirect-dir for redirect_dir=on; nothing for nofollow (captured)', () => {
    assert.deepEqual(ids(decideMountOptions(fixtureFacts('overlay-options', optionsUrl('redirect')), false)), ['mount.option-redirect-dir']);
    assert.deepEqual(ids(decideMountOptions(fixtureFacts('overlay-options', optionsUrl('userxattr')), false)), ['mount.option-userxattr']);
  });

  it('mount.option-volatile for volatile, which this kernel shows as fsync=volatile (captured)', () => {
    const [f, ...rest] = decideMountOptions(fixtureFacts('overlay-options', optionsUrl('volatile')), false);
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.option-volatile');
    assert.equal(f?.evidence['option'], 'fsync=volatile');
    assert.match(f?.message ?? '', /after a crash/);
  });

  it('mount.option-metacopy (with the redirect_dir=on it implies) for metacopy=on (captured)', () => {
    assert.deepEqual(ids(decideMountOptions(fixtureFacts('overlay-options', optionsUrl('metacopy')), false)), [
      'mount.option-metacopy',
      'mount.option-redirect-dir',
    ]);
  });

  it('mount.option-userxattr is info', () => {
    const [f] = decideMountOptions(fixtureFacts('overlay-options', optionsUrl('userxattr')), false);
    assert.equal(f?.severity, 'info');
  });

  it('nothing for fsync=strict, uuid=off, default_permissions, xino=on (captured)', () => {
    for (const name of ['strict', 'uuid', 'perms'])
      assert.deepEqual(decideMountOptions(fixtureFacts('overlay-options', optionsUrl(name), NO_DEFAULTS), false), [], name);
    assert.deepEqual(decideMountOptions(fixtureFacts('overlay-options', optionsUrl('xino', `${fx('overlay-options')}/tmp/u-xino`), NO_DEFAULTS), false), []);
  });

  it("applies the kernel module's defaults to options a live table leaves out", () => {
    const text =
      '1 0 254:0 / / rw - ext4 /dev/vda rw\n20 1 0:40 / /x/m/nix/store rw,relatime - overlay overlay rw,lowerdir=/x/lower/nix/store,upperdir=/x/upper,workdir=/x/work\n';
    const url = 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper';
    assert.deepEqual(decideMountOptions(factsOf(text, url), false), [], 'a saved table: unknown defaults, no finding');
    const found = decideMountOptions(factsOf(text, url, { index: true, metacopy: false, redirectDir: true, source: '/sys/module/overlay/parameters' }), false);
    assert.deepEqual(ids(found), ['mount.option-index', 'mount.option-redirect-dir']);
    assert.equal(found[0]?.evidence['from'], 'kernel default (/sys/module/overlay/parameters)');
    // An option the line shows wins over the default.
    const off = text.replace('workdir=/x/work', 'workdir=/x/work,index=off');
    assert.deepEqual(ids(decideMountOptions(factsOf(off, url, { index: true, metacopy: false, redirectDir: false, source: 's' }), false)), []);
  });
});
