import assert from 'node:assert/strict';
import type { DbSide, VerifyItem } from '../../agent/audit/find-corrupt.ts';
import { judgeBatch, type HashedBatch } from '../../agent/audit/verify-judge.ts';
import type { ErrorReport } from '../../agent/pool/error-report.ts';
import type { NarHashBatchEntry } from '../../agent/pool/tasks.ts';

/** An object of the lower layer named `name`, expected by each DB listed to hash to that DB's byte repeated (size 100). */
function item(name: string, ...expected: ReadonlyArray<readonly [DbSide, number]>): VerifyItem {
  return {
    path: `/nix/store/${name}`,
    file: `/lower/nix/store/${name}`,
    layer: 'lower',
    expected: expected.map(([db, byte]) => ({ db, dbFile: `/${db}.sqlite`, narHash: Buffer.alloc(32, byte), narSize: 100 })),
  };
}
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
  if (e['problem'] === 'vanished') return `${name} vanished (${String(e['why'])})`;
  if (e['problem'] === 'unreadable') return `${name} unreadable ${String(e['code'])} at ${String(e['failedPath'])}`;
  return `${name} modified: ${String(e['db'])} DB expects ${String(e['expectedNarHash']).slice(7, 9)}…, got ${String(e['actualNarHash']).slice(7, 9)}…`;
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
      findings: ['a vanished (missing)'],
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
