/** The daemon identity of lower metadata: computed from QueryAllValidPaths' answer, compared, kept in the baseline file. */
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  EntrySet,
  compareDaemonIdentity,
  daemonIdentityOf,
  decodeBaseline,
  diffLowerBaselines,
  encodeBaseline,
  isLowerDaemonIdentity,
  loadBaseline,
  type LowerBaseline,
  type LowerDaemonIdentity,
} from '../../agent/baseline/index.ts';

const SOCKET = '/run/snix/daemon.sock';
const HELLO = { version: { major: 1, minor: 34 }, nixVersion: '2.8.0' };
const A = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a';
const B = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b';
const C = '/nix/store/cccccccccccccccccccccccccccccccc-c';

const baselineWith = (daemon: LowerDaemonIdentity | null | undefined): LowerBaseline => ({
  realStoreDir: '/mnt/lower/nix/store',
  createdAt: '2025-01-02T03:04:05.000Z',
  db: null,
  ...(daemon === undefined ? {} : { daemon }),
  entries: EntrySet.fromNames([]),
  dirStamp: null,
});

describe('baseline/daemon-identity', () => {
  it('daemonIdentityOf: protocol, Nix version, count, and a digest of the sorted list whatever the order given', () => {
    const identity = daemonIdentityOf(SOCKET, HELLO, [B, A]);
    assert.deepEqual({ ...identity, digest: identity.digest.length }, { socket: SOCKET, protocol: '1.34', nixVersion: '2.8.0', validPaths: 2, digest: 64 });
    assert.equal(daemonIdentityOf(SOCKET, HELLO, [A, B]).digest, identity.digest);
    assert.notEqual(daemonIdentityOf(SOCKET, HELLO, [A, C]).digest, identity.digest, 'same count, other paths');
    assert.equal(daemonIdentityOf(SOCKET, { ...HELLO, nixVersion: undefined }, []).nixVersion, null);
  });

  it('compareDaemonIdentity: a path registered or deleted is modified; an upgraded daemon with the same set is not; nothing known is unknown', () => {
    const before = daemonIdentityOf(SOCKET, HELLO, [A, B]);
    const cases: Array<[string, LowerDaemonIdentity | null | undefined, LowerDaemonIdentity | null | undefined, string]> = [
      ['same set', before, daemonIdentityOf(SOCKET, HELLO, [B, A]), 'unchanged'],
      ['a path registered', before, daemonIdentityOf(SOCKET, HELLO, [A, B, C]), 'modified'],
      ['a path deleted', before, daemonIdentityOf(SOCKET, HELLO, [A]), 'modified'],
      ['one path swapped for another', before, daemonIdentityOf(SOCKET, HELLO, [A, C]), 'modified'],
      ['daemon upgraded, same set', before, daemonIdentityOf(SOCKET, { version: { major: 1, minor: 35 }, nixVersion: '2.25.5' }, [A, B]), 'unchanged'],
      ['old baseline (no identity)', undefined, before, 'unknown'],
      ['never reached', null, before, 'unknown'],
      ['not reached now', before, null, 'unknown'],
    ];
    for (const [name, a, b, expected] of cases) assert.equal(compareDaemonIdentity(a, b), expected, name);
  });

  it('isLowerDaemonIdentity: accepts what daemonIdentityOf makes, rejects other shapes', () => {
    const good = daemonIdentityOf(SOCKET, HELLO, [A]);
    assert.equal(isLowerDaemonIdentity(good), true);
    for (const bad of [null, 1, {}, { ...good, digest: 'xyz' }, { ...good, validPaths: 1.5 }, { ...good, nixVersion: 3 }, { ...good, socket: undefined }])
      assert.equal(isLowerDaemonIdentity(bad), false, JSON.stringify(bad));
  });

  it('the baseline file keeps it; a baseline without it (older files, other lower stores) still loads and diffs as unknown', () => {
    const identity = daemonIdentityOf(SOCKET, HELLO, [A, B]);
    const withDaemon = decodeBaseline(Buffer.concat([...encodeBaseline(baselineWith(identity))]), 'mem');
    assert.deepEqual(withDaemon.daemon, identity);
    assert.equal(decodeBaseline(Buffer.concat([...encodeBaseline(baselineWith(null))]), 'mem').daemon, null);
    const without = decodeBaseline(Buffer.concat([...encodeBaseline(baselineWith(undefined))]), 'mem');
    assert.equal('daemon' in without, false);
    const old = loadBaseline(path.join(import.meta.dirname, 'fixtures', 'lower-baseline-v1.bin'), '/mnt/lower/nix/store')!;
    assert.equal(old.daemon, undefined);
    assert.equal(diffLowerBaselines(old, { ...old, daemon: identity }).daemon, 'unknown');
    assert.equal(diffLowerBaselines(withDaemon, { ...withDaemon, daemon: daemonIdentityOf(SOCKET, HELLO, [A]) }).daemon, 'modified');
  });
});
