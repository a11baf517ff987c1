import assert from 'node:assert/strict';
import fs from 'node:fs';
import { entryKind } from '../../agent/pool/tasks/scan-layer-chunk.ts';

const { S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK } = fs.constants;

describe('pool/tasks/scan-layer-chunk entryKind', () => {
  it('maps file types, with char device 0:0 as an OverlayFS whiteout', () => {
    assert.equal(entryKind(S_IFDIR | 0o755, 0), 'directory');
    assert.equal(entryKind(S_IFREG | 0o444, 0), 'file');
    assert.equal(entryKind(S_IFLNK | 0o777, 0), 'symlink');
    assert.equal(entryKind(S_IFCHR, 0), 'whiteout');
  });

  it('calls any other device, fifo or socket `other`', () => {
    assert.equal(entryKind(S_IFCHR | 0o666, (1 << 8) | 3), 'other'); // /dev/null is 1:3
    assert.equal(entryKind(S_IFBLK, 0), 'other');
    assert.equal(entryKind(S_IFIFO, 0), 'other');
    assert.equal(entryKind(S_IFSOCK, 0), 'other');
  });
});
