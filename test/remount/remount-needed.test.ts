import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addFlagReason,
  clearFlagThrough,
  clearRemountNeeded,
  MAX_KEPT_REASONS,
  readRemountNeeded,
  recordFlagAttempt,
  recordFlagError,
  remountNeededPath,
  writeRemountNeeded,
} from '../../agent/remount/index.ts';
import { isWardenError } from '../../agent/errors/index.ts';

const T0 = Date.parse('2025-01-02T03:04:05.000Z');

/** The flag file's contents after one request (`request`, ticket `ticket`) at `at` and no attempt yet. */
function flagOfOneRequest(at: string, request: object, ticket: number): object {
  return { version: 1, firstFlaggedAt: at, requests: 1, reasons: [{ at, request, ticket }], attempts: 0, lastAttemptAt: null, lastError: null };
}

describe('the remount-needed flag', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ow-flag-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts with the first request and counts the rest, keeping only the latest reasons', () => {
    let flag = addFlagReason(undefined, { source: 'manual', by: 'test' }, T0, 1);
    assert.deepEqual(flag, flagOfOneRequest('2025-01-02T03:04:05.000Z', { source: 'manual', by: 'test' }, 1));
    for (let i = 2; i <= 100; i++) flag = addFlagReason(flag, { source: 'lower-grew', paths: [`p${i}`] }, T0 + i, i);
    assert.equal(flag.requests, 100);
    assert.equal(flag.reasons.length, MAX_KEPT_REASONS);
    assert.deepEqual(flag.reasons.at(-1)?.request, { source: 'lower-grew', paths: ['p100'] });
    assert.equal(flag.firstFlaggedAt, '2025-01-02T03:04:05.000Z');
  });

  it('records attempts and the last error', () => {
    const flag = recordFlagError(
      recordFlagAttempt(addFlagReason(undefined, { source: 'manual', by: 't' }, T0, 1), T0 + 10),
      { code: 'REMOUNT_COMMAND_FAILED', message: 'exit 1' },
      T0 + 20,
    );
    assert.equal(flag.attempts, 1);
    assert.equal(flag.lastAttemptAt, '2025-01-02T03:04:05.010Z');
    assert.deepEqual(flag.lastError, { code: 'REMOUNT_COMMAND_FAILED', message: 'exit 1', at: '2025-01-02T03:04:05.020Z' });
  });

  it('after a fresh remount keeps only the requests the run could not cover', () => {
    let flag = addFlagReason(undefined, { source: 'manual', by: 'a' }, T0, 1);
    flag = addFlagReason(flag, { source: 'manual', by: 'b' }, T0 + 1, 2);
    flag = recordFlagAttempt(flag, T0 + 2);
    flag = addFlagReason(flag, { source: 'manual', by: 'c' }, T0 + 3, 3);
    assert.equal(clearFlagThrough(flag, 3, 3, T0 + 9), undefined);
    const left = clearFlagThrough(flag, 2, 3, T0 + 9);
    assert.deepEqual(left, flagOfOneRequest('2025-01-02T03:04:05.003Z', { source: 'manual', by: 'c' }, 3));
  });

  it('round-trips through its file (mode 0600, tickets not written) and clears it', () => {
    const file = remountNeededPath(join(dir, 'state'));
    const flag = addFlagReason(undefined, { source: 'watcher', storePath: 'abc-x', upperPath: '/u/abc-x', lowerPath: '/l/abc-x' }, T0, 7);
    writeRemountNeeded(file, flag);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(!readFileSync(file, 'utf8').includes('ticket'));
    const { reasons, ...rest } = flag;
    assert.deepEqual(readRemountNeeded(file), { ...rest, reasons: reasons.map(({ at, request }) => ({ at, request })) });
    clearRemountNeeded(file);
    assert.equal(readRemountNeeded(file), undefined);
    clearRemountNeeded(file);
  });

  it('reports a file that is not a flag as STATE_CORRUPT', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"version":1,"reasons":[{"at":"x","request":{"source":"nope"}}]}');
    assert.throws(
      () => readRemountNeeded(file),
      (e) => isWardenError(e, 'STATE_CORRUPT'),
    );
    writeFileSync(file, '{ half');
    assert.throws(
      () => readRemountNeeded(file),
      (e) => isWardenError(e, 'STATE_CORRUPT'),
    );
  });
});
