import assert from 'node:assert/strict';
import { hashKeyOf, hashKeysOf, rowOfPath } from '../../agent/store/path-row-index.ts';

describe('path row index (a store path row found by its hash part as a number)', () => {
  // Two paths share the first 10 digits of their hash part: found apart by the full path.
  const paths = [
    '/nix/store/0000000000aaaaaaaaaaaaaaaaaaaaaa-x',
    '/nix/store/0000000001aaaaaaaaaaaaaaaaaaaaaa-a',
    '/nix/store/0000000001bbbbbbbbbbbbbbbbbbbbbb-b',
    '/nix/store/0000000001bbbbbbbbbbbbbbbbbbbbbb-c',
    '/nix/store/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz-z',
  ];
  const keys = hashKeysOf(paths, '/nix/store');

  it('keys ascend with the paths (the base-32 alphabet is in ASCII order)', () => {
    for (let i = 1; i < keys.length; i++) assert.ok((keys[i - 1] as number) <= (keys[i] as number));
    assert.equal(hashKeyOf(paths[4]!, 11), 32 ** 10 - 1);
    assert.equal(hashKeyOf('/nix/store/e000000000', 11), -1, "'e' is no Nix base-32 digit");
  });

  it('finds every row, and no row for a path that is not there', () => {
    paths.forEach((path, row) => assert.equal(rowOfPath(paths, keys, '/nix/store', path), row));
    assert.equal(rowOfPath(paths, keys, '/nix/store', '/nix/store/0000000001bbbbbbbbbbbbbbbbbbbbbb-d'), -1);
    assert.equal(rowOfPath(paths, keys, '/nix/store', '/nix/store/1000000000aaaaaaaaaaaaaaaaaaaaaa-x'), -1);
    assert.equal(rowOfPath(paths, keys, '/nix/store', '/other/store/0000000000aaaaaaaaaaaaaaaaaaaaaa-x'), -1);
    assert.equal(rowOfPath(paths, keys, '/nix/store', '/nix/storex/0000000000aaaaaaaaaaaaaaaaaaaaaa-x'), -1);
  });
});
