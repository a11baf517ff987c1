import assert from 'node:assert/strict';
import { supportsDType, supportsOverlayXattrs } from '../../agent/checks/fs-capabilities.ts';

describe('filesystem capabilities for an upper layer', () => {
  it('knows the xattr support of common filesystems, with and without userxattr', () => {
    assert.equal(supportsOverlayXattrs('ext4', false), 'yes');
    assert.equal(supportsOverlayXattrs('xfs', true), 'yes');
    assert.equal(supportsOverlayXattrs('vfat', false), 'no');
    assert.equal(supportsOverlayXattrs('nfs4', false), 'no');
    assert.equal(supportsOverlayXattrs('nfs4', true), 'unknown');
    assert.equal(supportsOverlayXattrs('fuse.sshfs', false), 'unknown');
  });

  it('gives tmpfs user xattrs from Linux 6.6 on', () => {
    assert.equal(supportsOverlayXattrs('tmpfs', false, '5.15.0'), 'yes');
    assert.equal(supportsOverlayXattrs('tmpfs', true, '6.5.9'), 'no');
    assert.equal(supportsOverlayXattrs('tmpfs', true, '6.6.0'), 'yes');
    assert.equal(supportsOverlayXattrs('tmpfs', true, '7.0.1-custom'), 'yes');
  });

  it('leaves xfs d_type to readdir (ftype), and knows ext4 and tmpfs have it', () => {
    assert.equal(supportsDType('ext4'), 'yes');
    assert.equal(supportsDType('tmpfs'), 'yes');
    assert.equal(supportsDType('xfs'), 'unknown');
  });
});
