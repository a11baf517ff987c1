/** dedupe's pure decisions: which copies may go, what a left one is reported as, which names are leftovers, the control request. */
import assert from 'node:assert/strict';
import { dedupeLeftoverName, dedupeLeftoverOf } from '../../agent/audit/index.ts';
import { ControlError } from '../../agent/control/index.ts';
import { judgeDuplicate, leftDuplicateFinding, servedCheckFinding, toDedupeRequest, type DedupePathReport } from '../../agent/repair/index.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const NAME = '0c8xc8ixbq3q2k7m2x5bw0bbd5nc43cc-hello-2.12';

describe('judgeDuplicate', () => {
  const hashes = { upperDbHash: `sha256:${A}`, lowerDbHash: `sha256:${A}`, servedHash: A, lowerHash: A, error: undefined };

  it('removes only when both copies and both DBs agree', () => {
    assert.deepEqual(judgeDuplicate(hashes), { verdict: 'remove', matchesDb: 'both' });
    assert.deepEqual(
      judgeDuplicate({ ...hashes, upperDbHash: undefined }),
      { verdict: 'remove', matchesDb: 'both' },
      'a lower path the upper DB never copied up',
    );
    assert.deepEqual(judgeDuplicate({ ...hashes, lowerDbHash: `sha256:${A.toUpperCase()}` }).verdict, 'remove');
  });

  it('says which copy matches the DB when they differ', () => {
    assert.deepEqual(judgeDuplicate({ ...hashes, servedHash: B }), { verdict: 'differs', matchesDb: 'lower' });
    assert.deepEqual(judgeDuplicate({ ...hashes, lowerHash: B }), { verdict: 'differs', matchesDb: 'upper' });
    assert.deepEqual(judgeDuplicate({ ...hashes, servedHash: B, lowerHash: B }), { verdict: 'differs', matchesDb: 'neither' });
    assert.deepEqual(judgeDuplicate({ ...hashes, upperDbHash: `sha256:${B}` }), { verdict: 'differs', matchesDb: 'dbs-disagree' });
  });

  it('never removes what the lower DB does not register, or what could not be hashed', () => {
    assert.equal(judgeDuplicate({ ...hashes, lowerDbHash: undefined }).verdict, 'unregistered');
    assert.equal(judgeDuplicate({ ...hashes, error: 'EACCES' }).verdict, 'failed');
    assert.equal(judgeDuplicate({ ...hashes, lowerHash: undefined }).verdict, 'failed');
  });
});

describe('dedupe findings', () => {
  const p: DedupePathReport = {
    path: `/nix/store/${NAME}`,
    upperPath: `/u/${NAME}`,
    kind: 'directory',
    bytes: 4096,
    verdict: 'differs',
    removed: false,
    dbNarHash: `sha256:${A}`,
    upperNarHash: `sha256:${B}`,
    lowerNarHash: `sha256:${A}`,
    matchesDb: 'lower',
    error: null,
  };

  it('a differing copy is a warning naming the copy that matches the DB; a removable one is no finding', () => {
    const f = leftDuplicateFinding(p);
    assert.equal(f?.id, 'store.duplicate');
    assert.equal(f?.severity, 'warning');
    assert.match(f!.message, /the DB's narHash matches the lower copy, not the upper one/);
    assert.equal(leftDuplicateFinding({ ...p, verdict: 'remove', matchesDb: 'both' }), undefined);
    assert.equal(leftDuplicateFinding({ ...p, verdict: 'remove', removed: true, error: 'EBUSY' })?.id, 'store.dedupe-leftover');
  });

  it('the merged view after the remount: the DB hash from the lower layer, or an error saying what is served', () => {
    const served = { path: p.path, upperStillThere: false, servedHash: A, dbNarHash: `sha256:${A}`, error: undefined };
    assert.equal(servedCheckFinding(served), undefined);
    assert.match(servedCheckFinding({ ...served, servedHash: B })!.message, /serves a copy with NAR hash sha256:b+, not the DB's/);
    assert.match(servedCheckFinding({ ...served, upperStillThere: true })!.message, /the upper layer still has an entry/);
  });
});

describe('dedupe leftover names', () => {
  it('are the prefix and a valid store path name; nothing else is ever deleted as one', () => {
    assert.equal(dedupeLeftoverOf(dedupeLeftoverName(NAME)), NAME);
    assert.equal(dedupeLeftoverOf(NAME), undefined);
    assert.equal(dedupeLeftoverOf(dedupeLeftoverName('not-a-store-path')), undefined);
    assert.equal(dedupeLeftoverOf(dedupeLeftoverName(`${NAME}/../../etc`)), undefined);
  });
});

describe('the dedupe control request', () => {
  it('defaults to a dry run with a 60 s lock wait, and names a bad field', () => {
    assert.deepEqual(toDedupeRequest({ id: 1, action: 'dedupe' }), { apply: false, lockTimeoutSeconds: 60 });
    assert.deepEqual(toDedupeRequest({ id: 1, action: 'dedupe', apply: true, lockTimeoutSeconds: 0 }), { apply: true, lockTimeoutSeconds: 0 });
    assert.throws(
      () => toDedupeRequest({ id: 1, action: 'dedupe', apply: 'yes' }),
      (e: unknown) => e instanceof ControlError && e.code === 'CONTROL_BAD_REQUEST' && /"apply"/.test(e.message),
    );
    assert.throws(
      () => toDedupeRequest({ id: 1, action: 'dedupe', lockTimeoutSeconds: 1e6 }),
      (e: unknown) => e instanceof ControlError && /"lockTimeoutSeconds"/.test(e.message),
    );
  });
});
