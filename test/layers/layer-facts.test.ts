/** layerFactsOf (pure): the filesystem with the longest mount point holding the layer, and its block device. */
import assert from 'node:assert/strict';
import { layerFactsOf } from '../../agent/layers/index.ts';

const filesystems = [
  { fs: '/dev/sda2', type: 'ext4', size: 100, available: 40, mount: '/', rw: true },
  { fs: '/dev/sdb1', type: 'xfs', size: 1000, available: 900, mount: '/mnt/cache', rw: false },
  { fs: 'tmpfs', type: 'tmpfs', size: 10, available: 10, mount: '/mnt/cache/tmp', rw: null },
];
const devices = [
  { name: 'sda2', type: 'part', model: '', removable: false },
  { name: 'sdb1', type: 'part', model: 'Disk', removable: true },
];

describe('layers: the facts of a layer', () => {
  it('picks the deepest mount holding the path, with its device', () => {
    assert.deepEqual(layerFactsOf('lower', '/mnt/cache/nix/store', filesystems, devices), {
      layer: 'lower',
      path: '/mnt/cache/nix/store',
      mount: '/mnt/cache',
      device: '/dev/sdb1',
      fsType: 'xfs',
      sizeBytes: 1000,
      availableBytes: 900,
      readOnly: true,
      blockDevice: { name: 'sdb1', type: 'part', model: 'Disk', removable: true },
    });
  });
  it('a mount point is not a prefix of a sibling name; no device for tmpfs; read-only unknown stays absent', () => {
    assert.equal(layerFactsOf('upper', '/mnt/cachedir/x', filesystems, devices).mount, '/');
    const tmp = layerFactsOf('upper', '/mnt/cache/tmp/upper', filesystems, devices);
    assert.equal(tmp.fsType, 'tmpfs');
    assert.equal('blockDevice' in tmp, false);
    assert.equal('readOnly' in tmp, false);
  });
  it('no filesystem listed: only the path', () => {
    assert.deepEqual(layerFactsOf('upper', '/x', [], []), { layer: 'upper', path: '/x' });
  });
});
