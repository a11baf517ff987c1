import assert from 'node:assert/strict';
import { decodeValidPathRow, splitSpaces } from '../../agent/store/nix-db-rows.ts';
import { NixDbError } from '../../agent/store/nix-db-error.ts';

const HASH = `sha256:${'ab'.repeat(32)}`;

describe('nix-db-rows', function () {
  it('decodes a full row', function () {
    const row = decodeValidPathRow([7, '/nix/store/x-a', HASH, 1700000000, '/nix/store/y-a.drv', 1528, 1, 'k1:a k2:b', 'fixed:r:sha256:abc'], '/db');
    assert.deepEqual(row, {
      id: 7,
      path: '/nix/store/x-a',
      narHash: HASH,
      narSize: 1528,
      registrationTime: 1700000000,
      deriver: '/nix/store/y-a.drv',
      ultimate: true,
      sigs: ['k1:a', 'k2:b'],
      ca: 'fixed:r:sha256:abc',
    });
  });

  it('reads NULLs as Nix does: no deriver, narSize 0, not ultimate, no sigs, no ca', function () {
    const row = decodeValidPathRow([1, '/nix/store/x-a', HASH, 1, null, null, null, null, null], '/db');
    assert.deepEqual(row, {
      id: 1,
      path: '/nix/store/x-a',
      narHash: HASH,
      narSize: 0,
      registrationTime: 1,
      deriver: undefined,
      ultimate: false,
      sigs: [],
      ca: undefined,
    });
    assert.equal(decodeValidPathRow([1, '/p', HASH, 1, '', 0, 0, '', ''], '/db').ultimate, false);
  });

  it('rejects a value of the wrong type with NIX_DB_BAD_ROW naming the column', function () {
    const good: unknown[] = [3, '/nix/store/x-a', HASH, 1, null, 1, null, null, null];
    const bad: [number, unknown, string][] = [
      [0, 'x', 'id'],
      [1, null, 'path'],
      [1, '', 'path'],
      [2, 5, 'hash'],
      [3, 1.5, 'registrationTime'],
      [4, 3, 'deriver'],
      [5, -1, 'narSize'],
      [5, 'big', 'narSize'],
      [6, 'yes', 'ultimate'],
      [7, new Uint8Array(2), 'sigs'],
      [8, 9, 'ca'],
    ];
    for (const [index, value, column] of bad) {
      const row = [...good];
      row[index] = value;
      assert.throws(
        () => decodeValidPathRow(row, '/db'),
        (error: unknown) =>
          error instanceof NixDbError && error.code === 'NIX_DB_BAD_ROW' && error.evidence['column'] === column && error.evidence['file'] === '/db',
        column,
      );
    }
  });

  it('splits space-separated lists, ignoring empty items', function () {
    assert.deepEqual(splitSpaces(null), []);
    assert.deepEqual(splitSpaces(''), []);
    assert.deepEqual(splitSpaces('a  b '), ['a', 'b']);
  });
});
