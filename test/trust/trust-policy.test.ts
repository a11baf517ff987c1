import assert from 'node:assert/strict';
import { isTrustedOwner, modeText, untrustedAncestorReason, untrustedReason, untrustedSymlinkReason, type TrustPolicy } from '../../agent/trust/index.ts';

const AS_ROOT: TrustPolicy = { uid: 0, outsideUid: undefined };
const AS_AGENT: TrustPolicy = { uid: 1000, outsideUid: undefined };
/** In an unprivileged user namespace, where real root's files show as the overflow uid. */
const IN_USER_NAMESPACE: TrustPolicy = { uid: 0, outsideUid: 65534 };

describe('trust/trust-policy', () => {
  it('trusts root and the agent’s user as owners, and the overflow uid only inside a user namespace', () => {
    assert.deepEqual(
      [0, 1000, 65534, 42].map((uid) => [isTrustedOwner(uid, AS_ROOT), isTrustedOwner(uid, AS_AGENT), isTrustedOwner(uid, IN_USER_NAMESPACE)]),
      [
        [true, true, true],
        [false, true, false],
        [false, false, true],
        [false, false, false],
      ],
    );
  });

  it('a file: owned by root or the agent, writable by nobody else (the sticky bit changes nothing)', () => {
    assert.equal(untrustedReason({ uid: 0, mode: 0o100755 }, AS_ROOT, 'f'), undefined);
    assert.equal(untrustedReason({ uid: 1000, mode: 0o100700 }, AS_AGENT, 'f'), undefined);
    assert.equal(untrustedReason({ uid: 65534, mode: 0o100755 }, IN_USER_NAMESPACE, 'f'), undefined);
    assert.equal(untrustedReason({ uid: 1000, mode: 0o100755 }, AS_ROOT, 'f'), "f is owned by uid 1000, not by root or the agent's user (uid 0)");
    assert.equal(untrustedReason({ uid: 65534, mode: 0o100755 }, AS_ROOT, 'f'), "f is owned by uid 65534, not by root or the agent's user (uid 0)");
    assert.equal(untrustedReason({ uid: 0, mode: 0o100775 }, AS_ROOT, 'f'), 'f is writable by group or others (mode 0775)');
    assert.equal(untrustedReason({ uid: 0, mode: 0o100757 }, AS_ROOT, 'f'), 'f is writable by group or others (mode 0757)');
    assert.equal(untrustedReason({ uid: 0, mode: 0o41777 }, AS_ROOT, 'd'), 'd is writable by group or others (mode 1777)');
    assert.match(untrustedReason({ uid: 65534, mode: 0o100777 }, IN_USER_NAMESPACE, 'f')!, /writable by group or others/);
  });

  it('a directory passed through: writable by others only when sticky', () => {
    assert.equal(untrustedAncestorReason({ uid: 0, mode: 0o40755 }, AS_ROOT, 'd'), undefined);
    assert.equal(untrustedAncestorReason({ uid: 0, mode: 0o41777 }, AS_ROOT, 'd'), undefined);
    assert.equal(untrustedAncestorReason({ uid: 0, mode: 0o41770 }, AS_ROOT, 'd'), undefined);
    assert.equal(untrustedAncestorReason({ uid: 0, mode: 0o40777 }, AS_ROOT, 'd'), 'd is writable by group or others and not sticky (mode 0777)');
    assert.equal(untrustedAncestorReason({ uid: 0, mode: 0o40775 }, AS_ROOT, 'd'), 'd is writable by group or others and not sticky (mode 0775)');
    assert.match(untrustedAncestorReason({ uid: 65534, mode: 0o40755 }, AS_ROOT, 'd')!, /owned by uid 65534/);
  });

  it('a symlink: only its owner counts (its mode is always 0777, and its directory is checked as an ancestor)', () => {
    assert.equal(untrustedSymlinkReason({ uid: 0, mode: 0o120777 }, AS_ROOT, 'l'), undefined);
    assert.match(untrustedSymlinkReason({ uid: 65534, mode: 0o120777 }, AS_ROOT, 'l')!, /owned by uid 65534/);
  });

  it('writes modes with four octal digits', () => {
    assert.deepEqual([0o100644, 0o41777, 0o40700, 0o104755].map(modeText), ['0644', '1777', '0700', '4755']);
  });
});
