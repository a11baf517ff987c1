import assert from 'node:assert/strict';
import { buildSnapshot } from '../../agent/store/daemon-snapshot-load.ts';
import { LowerMetadataError, type DaemonPathInfo, type LowerMetadataErrorCode } from '../../agent/store/index.ts';

const path = (hashChar: string, name: string): string => `/nix/store/${hashChar.repeat(32)}-${name}`;
const A = path('a', 'a');
const B = path('b', 'b');
const C = path('c', 'c');
/** Referenced, but not a valid path of this store. */
const X = path('x', 'gone');

function info(p: string, references: string[], extra: Partial<DaemonPathInfo> = {}): DaemonPathInfo {
  return {
    path: p,
    narHash: `sha256:${p.charCodeAt(11).toString(16).padStart(2, '0').repeat(32)}`,
    narSize: p.length,
    registrationTime: 1700000000,
    deriver: undefined,
    ultimate: false,
    sigs: [],
    ca: undefined,
    references,
    ...extra,
  };
}

function throwsCode(run: () => unknown, code: LowerMetadataErrorCode): void {
  assert.throws(run, (error: unknown) => error instanceof LowerMetadataError && error.code === code && error.hint !== undefined);
}

describe('daemon snapshot (the lower metadata read from a daemon)', () => {
  const infos = [info(A, [A, B, X], { deriver: path('d', 'a.drv'), sigs: ['k:s'], ca: 'fixed:r:sha256:abc', ultimate: true }), info(B, []), info(C, [B])];
  const full = (): ReturnType<typeof buildSnapshot> => buildSnapshot('nix-daemon /s', '/nix/store', [], { paths: [A, B, C], first: 0, count: 3 }, infos);

  it('rows are numbered in path order from 1 and read back as the DB reader gives them', () => {
    const snapshot = full();
    assert.deepEqual(
      [...snapshot.iterateValidPaths()].map((row) => [row.id, row.path]),
      [
        [1, A],
        [2, B],
        [3, C],
      ],
    );
    assert.deepEqual(
      [...snapshot.iterateValidPaths(2)].map((row) => row.id),
      [3],
    );
    const { references, ...row } = infos[0]!;
    assert.deepEqual(snapshot.queryPathInfo(A), { ...row, id: 1, references: [...references].sort() });
    assert.equal(snapshot.queryPathInfo(X), undefined);
    assert.equal(snapshot.countValidPaths(), 3);
    assert.equal(snapshot.isValidPath(B), true);
    assert.equal(snapshot.isValidPath(X), false);
    assert.equal(snapshot.source, 'nix-daemon /s');
    assert.deepEqual(snapshot.queryRealisations(), []);
    assert.equal(snapshot.changedSinceOpen(), false);
  });

  it('references (a reference that is no valid path included), referrers computed from them, hash parts', () => {
    const snapshot = full();
    assert.deepEqual(snapshot.queryReferences(A), [A, B, X].sort());
    assert.deepEqual(snapshot.queryReferrers(B), [A, C]);
    assert.deepEqual(snapshot.queryReferrers(A), [A]);
    assert.equal(snapshot.queryReferrers(X), undefined);
    assert.equal(snapshot.queryPathFromHashPart('b'.repeat(32)), B);
    assert.equal(snapshot.queryPathFromHashPart('0'.repeat(32)), undefined);
    throwsCode(() => snapshot.queryPathFromHashPart('nope'), 'LOWER_METADATA_BAD_HASH_PART');
    assert.deepEqual(
      [...snapshot.iterateReferences()],
      [
        { referrer: A, reference: A },
        { referrer: A, reference: B },
        { referrer: A, reference: X },
        { referrer: C, reference: B },
      ],
    );
    // By id, in batches, ordered by referrer: X, not a row, has an id past the rows (an unknown reference).
    assert.deepEqual(
      [...snapshot.iterateReferenceIds(3)].map((batch) => [...batch]),
      [
        [1, 1, 1, 2, 1, 4],
        [3, 2],
      ],
    );
  });

  it('a window of rows (a scrub chunk): ids are positions in the whole listing; outside the window it cannot tell', () => {
    const chunk = buildSnapshot('nix-daemon /s', '/nix/store', [], { paths: [B], first: 1, count: 3 }, [infos[1]]);
    assert.deepEqual(
      [...chunk.iterateValidPaths(1)].map((row) => [row.id, row.path]),
      [[2, B]],
    );
    assert.deepEqual([...chunk.iterateValidPaths(2)], []);
    assert.equal(chunk.countValidPaths(), 3);
    assert.equal(chunk.queryPathInfo(B)?.id, 2);
    throwsCode(() => chunk.isValidPath(A), 'LOWER_METADATA_NOT_READ');
    throwsCode(() => chunk.queryPathInfo(C), 'LOWER_METADATA_NOT_READ');
    throwsCode(() => chunk.queryReferrers(B), 'LOWER_METADATA_NOT_READ');
    // A reference out of the window is kept by name.
    const withRefs = buildSnapshot('nix-daemon /s', '/nix/store', [], { paths: [C], first: 2, count: 3 }, [infos[2]]);
    assert.deepEqual(withRefs.queryReferences(C), [B]);
  });

  it('a row that vanished between listing and reading is no row', () => {
    const snapshot = buildSnapshot('nix-daemon /s', '/nix/store', [], { paths: [A, B], first: 0, count: 3 }, [infos[0], undefined]);
    assert.deepEqual(
      [...snapshot.iterateValidPaths()].map((row) => row.id),
      [1],
    );
    throwsCode(() => snapshot.queryPathInfo(B), 'LOWER_METADATA_NOT_READ');
  });

  it('closed: every query throws LOWER_METADATA_CLOSED', () => {
    const snapshot = full();
    snapshot.close();
    snapshot.close();
    throwsCode(() => snapshot.countValidPaths(), 'LOWER_METADATA_CLOSED');
    throwsCode(() => [...snapshot.iterateValidPaths()], 'LOWER_METADATA_CLOSED');
  });
});
