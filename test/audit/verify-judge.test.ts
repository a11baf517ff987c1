import assert from 'node:assert/strict';
import type { DbSide, Expectation, VerifyItem } from '../../agent/audit/find-corrupt.ts';
import { judgeBatch, type HashedBatch } from '../../agent/audit/verify-judge.ts';
import type { ErrorReport } from '../../agent/pool/error-report.ts';
import type { LowerObjectDigest, NarHashBatchEntry } from '../../agent/pool/tasks.ts';

/** An object of the lower layer named `name`, expected by each DB listed to hash to that DB's byte repeated (size 100). */
function item(name: string, ...expected: ReadonlyArray<readonly [DbSide, number]>): VerifyItem {
  return {
    path: `/nix/store/${name}`,
    file: `/lower/nix/store/${name}`,
    layer: 'lower',
    expected: expected.map(([db, byte]) => ({ db, dbFile: `/${db}.sqlite`, narHash: Buffer.alloc(32, byte), narSize: 100 })),
  };
}
const expect = (db: DbSide, byte: number): Expectation => ({ db, dbFile: `/${db}.sqlite`, narHash: Buffer.alloc(32, byte), narSize: 100 });
/** An object served from the upper layer, expected to hash to `served`'s bytes, over a lower copy expected to hash to `lower`'s. */
function upperItem(name: string, served: ReadonlyArray<readonly [DbSide, number]>, lower: ReadonlyArray<readonly [DbSide, number]> = []): VerifyItem {
  return {
    path: `/nix/store/${name}`,
    file: `/upper/${name}`,
    layer: 'upper',
    expected: served.map(([db, byte]) => expect(db, byte)),
    lowerCopy: { file: `/lower/nix/store/${name}`, expected: lower.map(([db, byte]) => expect(db, byte)) },
  };
}
/** A merged source's answer: the served digest and what was found of its lower copy. */
const served = (byte: number, narSize: number, lower: LowerObjectDigest): NarHashBatchEntry => ({
  ok: true,
  hash: Buffer.alloc(32, byte).toString('hex'),
  narSize,
  lower,
});
const lowerHashed = (byte: number): LowerObjectDigest => ({ kind: 'hashed', hash: Buffer.alloc(32, byte).toString('hex'), narSize: 100 });
const ABSENT: LowerObjectDigest = { kind: 'absent' };
const lowerFailed = (errno: string, path: string): LowerObjectDigest => {
  const entry = ioError(errno, path);
  return { kind: 'failed', error: entry.ok ? assert.fail() : entry.error };
};
const hashed = (byte: number, narSize = 100): NarHashBatchEntry => ({ ok: true, hash: Buffer.alloc(32, byte).toString('hex'), narSize });
const ioError = (errno: string, path: string): NarHashBatchEntry => ({
  ok: false,
  error: { name: 'Error', code: 'POOL_TASK_IO_ERROR', message: `${errno}: lstat '${path}'`, evidence: { errno, syscall: 'lstat', path } },
});
const answered = (items: VerifyItem[], results: NarHashBatchEntry[]): HashedBatch => ({
  ok: true,
  index: 0,
  item: items,
  value: { type: 'nar-hash-batch', results },
});
const taskFailed = (items: VerifyItem[], error: ErrorReport): HashedBatch => ({ ok: false, index: 0, item: items, error });

/** A finding in a line: the path's name, then what is wrong (with the DB, or the error's code and the file that failed). */
function line(f: { evidence: Record<string, unknown> }): string {
  const e = f.evidence;
  const name = String(e['path']).slice('/nix/store/'.length);
  if (e['problem'] === 'vanished') return `${name} vanished from the ${String(e['layer'])} layer`;
  if (e['problem'] === 'unreadable') return `${name} unreadable ${String(e['code'])} at ${String(e['failedPath'])}`;
  const lower = e['lowerCopy'] === undefined ? '' : `; lower copy ${String(e['lowerCopy'])}`;
  const where = e['hidden'] === true ? ' (the hidden lower copy)' : '';
  return `${name} modified${where}: ${String(e['db'])} DB expects ${String(e['expectedNarHash']).slice(7, 9)}…, got ${String(e['actualNarHash']).slice(7, 9)}…${lower}`;
}

describe('audit/verify-judge (pure)', () => {
  const cases: ReadonlyArray<{ name: string; outcome: HashedBatch; findings: string[]; failed: number; bytes: number }> = [
    {
      name: 'a digest every DB expects: no finding, its bytes hashed',
      outcome: answered([item('a', ['upper', 1], ['lower', 1])], [hashed(1, 123)]),
      findings: [],
      failed: 0,
      bytes: 123,
    },
    {
      name: 'a digest one DB does not expect: one modified finding naming that DB',
      outcome: answered([item('a', ['lower', 1], ['upper', 2])], [hashed(1)]),
      findings: ['a modified: upper DB expects 02…, got 01…'],
      failed: 0,
      bytes: 100,
    },
    {
      name: 'each object of a batch is judged against its own expectations, in order',
      outcome: answered([item('a', ['lower', 1]), item('b', ['lower', 2]), item('c', ['lower', 3])], [hashed(9), hashed(2), hashed(8)]),
      findings: ['a modified: lower DB expects 01…, got 09…', 'c modified: lower DB expects 03…, got 08…'],
      failed: 0,
      bytes: 300,
    },
    {
      name: 'ENOENT on the object itself: vanished (missing), not hashed',
      outcome: answered([item('a', ['lower', 1]), item('b', ['lower', 2])], [ioError('ENOENT', '/lower/nix/store/a'), hashed(2)]),
      findings: ['a vanished from the lower layer'],
      failed: 1,
      bytes: 100,
    },
    {
      name: 'an error inside the object (even ENOENT): unreadable, with the code and the file that failed',
      outcome: answered(
        [item('a', ['lower', 1]), item('b', ['lower', 2])],
        [ioError('EACCES', '/lower/nix/store/a/secret'), ioError('ENOENT', '/lower/nix/store/b/gone')],
      ),
      findings: ['a unreadable POOL_TASK_IO_ERROR at /lower/nix/store/a/secret', 'b unreadable POOL_TASK_IO_ERROR at /lower/nix/store/b/gone'],
      failed: 2,
      bytes: 0,
    },
    {
      name: 'a result the worker left out: unreadable (POOL_TASK_FAILED) at the object',
      outcome: answered([item('a', ['lower', 1]), item('b', ['lower', 2])], [hashed(1)]),
      findings: ['b unreadable POOL_TASK_FAILED at /lower/nix/store/b'],
      failed: 1,
      bytes: 100,
    },
    {
      name: 'a failed task: every object of the batch unreadable with the task error',
      outcome: taskFailed([item('a', ['lower', 1]), item('b', ['upper', 2])], { code: 'POOL_TASK_TIMEOUT', message: 'timed out', evidence: {} }),
      findings: ['a unreadable POOL_TASK_TIMEOUT at undefined', 'b unreadable POOL_TASK_TIMEOUT at undefined'],
      failed: 2,
      bytes: 0,
    },
    {
      name: 'an upper copy that matches, over a lower copy that matches or is absent: no finding, the served bytes only',
      outcome: answered(
        [upperItem('a', [['upper', 1]], [['lower', 1]]), upperItem('b', [['upper', 2]])],
        [served(1, 10, lowerHashed(1)), served(2, 20, ABSENT)],
      ),
      findings: [],
      failed: 0,
      bytes: 30,
    },
    {
      name: 'a served copy that does not match: the finding says whether the lower copy matches that DB',
      outcome: answered(
        [upperItem('a', [['lower', 1]], [['lower', 1]]), upperItem('b', [['upper', 2]]), upperItem('c', [['upper', 3]]), upperItem('d', [['upper', 4]])],
        [served(9, 100, lowerHashed(1)), served(9, 100, lowerHashed(8)), served(9, 100, ABSENT), served(9, 100, lowerFailed('ENOENT', '/lower/nix/store/d'))],
      ),
      findings: [
        'a modified: lower DB expects 01…, got 09…; lower copy matches',
        'b modified: upper DB expects 02…, got 09…; lower copy differs',
        'c modified: upper DB expects 03…, got 09…; lower copy absent',
        'd modified: upper DB expects 04…, got 09…; lower copy absent',
      ],
      failed: 0,
      bytes: 400,
    },
    {
      name: 'a served copy that matches over a lower copy that does not match the lower DB: the hidden lower copy is reported',
      outcome: answered([upperItem('a', [['upper', 1]], [['lower', 1]])], [served(1, 100, lowerHashed(7))]),
      findings: ['a modified (the hidden lower copy): lower DB expects 01…, got 07…'],
      failed: 0,
      bytes: 100,
    },
    {
      name: 'both copies miss the same lower DB expectation: one finding, for the served copy',
      outcome: answered([upperItem('a', [['lower', 1]], [['lower', 1]])], [served(9, 100, lowerHashed(8))]),
      findings: ['a modified: lower DB expects 01…, got 09…; lower copy differs'],
      failed: 0,
      bytes: 100,
    },
    {
      name: 'a lower copy that cannot be hashed: unreadable when the lower DB expects something of it, else only noted',
      outcome: answered(
        [upperItem('a', [['upper', 1]], [['lower', 1]]), upperItem('b', [['upper', 2]])],
        [served(1, 100, lowerFailed('EACCES', '/lower/nix/store/a/x')), served(9, 100, lowerFailed('EACCES', '/lower/nix/store/b/x'))],
      ),
      findings: ['a unreadable POOL_TASK_IO_ERROR at /lower/nix/store/a/x', 'b modified: upper DB expects 02…, got 09…; lower copy unreadable'],
      failed: 0,
      bytes: 200,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const judged = judgeBatch(c.outcome);
      assert.deepEqual(
        { findings: judged.findings.map(line), failed: judged.failed, bytes: judged.bytes },
        { findings: c.findings, failed: c.failed, bytes: c.bytes },
      );
      for (const f of judged.findings) assert.deepEqual([f.id, f.severity], ['store.corrupt', 'error']);
    });
  }

  it('a path of a batch fails as if it had been a task of its own: its message names a nar-hash task of that path', () => {
    const [f] = judgeBatch(answered([item('a', ['lower', 1])], [ioError('EACCES', '/lower/nix/store/a/secret')])).findings;
    assert.match(f?.message ?? '', /^\/nix\/store\/a could not be hashed in the lower layer: nar-hash \/lower\/nix\/store\/a: EACCES/);
    assert.equal(f?.evidence['errno'], 'EACCES');
  });
});
