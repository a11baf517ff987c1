import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allocatedBytesFreedByRemovalSync, bytesFreedByRemoval } from '../../agent/pool/disk-usage.ts';

describe('pool/disk-usage', () => {
  describe('bytesFreedByRemoval', () => {
    it('counts single-link inodes, and a shared inode once when all its links are removed', () => {
      assert.equal(
        bytesFreedByRemoval([
          { key: '1:1', allocatedBytes: 4096, nlink: 1 },
          { key: '1:2', allocatedBytes: 8192, nlink: 2 },
          { key: '1:2', allocatedBytes: 8192, nlink: 2 },
        ]),
        4096 + 8192,
      );
    });

    it('does not count an inode with a link left outside', () => {
      assert.equal(
        bytesFreedByRemoval([
          { key: '1:1', allocatedBytes: 4096, nlink: 1 },
          { key: '1:3', allocatedBytes: 8192, nlink: 2 },
        ]),
        4096,
      );
    });
  });

  describe('allocatedBytesFreedByRemovalSync', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-du-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const blocksOf = (p: string) => fs.lstatSync(p).blocks * 512;

    it('sums the blocks of a tree, counting in-tree hard links once and skipping ones linked from outside', () => {
      const root = path.join(dir, 'abc-pkg');
      fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
      fs.writeFileSync(path.join(root, 'bin', 'tool'), Buffer.alloc(50_000, 1));
      fs.linkSync(path.join(root, 'bin', 'tool'), path.join(root, 'bin', 'tool-alias'));
      fs.writeFileSync(path.join(root, 'shared'), Buffer.alloc(20_000, 2));
      fs.linkSync(path.join(root, 'shared'), path.join(dir, 'outside-link'));
      fs.symlinkSync('bin/tool', path.join(root, 'link'));
      const expected = [root, path.join(root, 'bin'), path.join(root, 'bin', 'tool'), path.join(root, 'link')].map(blocksOf).reduce((a, b) => a + b);
      assert.equal(allocatedBytesFreedByRemovalSync(root), expected);
      assert.ok(expected >= 50_000);
    });

    it('throws the errno error for a missing root', () => {
      assert.throws(() => allocatedBytesFreedByRemovalSync(path.join(dir, 'missing')), { code: 'ENOENT' });
    });
  });
});
