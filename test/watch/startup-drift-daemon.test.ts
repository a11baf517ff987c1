/**
 * The start-up diff of a daemon lower store: the daemon's identity compared with the baseline's, and carried over
 * when the daemon cannot be asked (the identity reader is injected; test/agent/lower-daemon-*.test.ts runs the same
 * through a real Nix 2.8 daemon).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { daemonIdentityOf, type LowerDaemonIdentity } from '../../agent/baseline/index.ts';
import { DaemonError } from '../../agent/store/index.ts';
import { startupDrift, type DriftLayout } from '../../agent/watch/index.ts';

const SOCKET = '/run/snix/daemon.sock';
const HELLO = { version: { major: 1, minor: 34 }, nixVersion: '2.8.0' };
const A = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a';
const B = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b';

describe('watch/startup-drift: a daemon lower store', () => {
  let tmp = '';
  let layout: DriftLayout;
  const reading = (identity: LowerDaemonIdentity) => async () => identity;
  const failing = async (): Promise<LowerDaemonIdentity> => {
    throw new DaemonError('DAEMON_CONNECT_FAILED', `cannot connect to nix-daemon socket ${SOCKET}: connect ECONNREFUSED`, { evidence: { socket: SOCKET } });
  };

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-startup-daemon-'));
    const store = path.join(tmp, 'lower', 'nix', 'store');
    fs.mkdirSync(path.join(store, path.basename(A)), { recursive: true });
    layout = {
      storeDir: '/nix/store',
      upperLayer: path.join(tmp, 'upper'),
      upperDb: path.join(tmp, 'no-upper-db.sqlite'),
      lower: { realStoreDir: store, db: undefined, daemonSocket: SOCKET, storeDir: '/nix/store' },
    };
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a first run records the daemon identity; a later start with another set of valid paths is lower-daemon-modified', async () => {
    const first = await startupDrift({ layout }, undefined, { readDaemon: reading(daemonIdentityOf(SOCKET, HELLO, [A])) });
    assert.equal(first.firstRun, true);
    assert.equal(first.current.db, null);
    assert.equal(first.current.daemon?.validPaths, 1);
    const same = await startupDrift({ layout }, first.current, { readDaemon: reading(daemonIdentityOf(SOCKET, HELLO, [A])) });
    assert.deepEqual(same.events, []);
    const grown = daemonIdentityOf(SOCKET, HELLO, [A, B]);
    const later = await startupDrift({ layout }, first.current, { readDaemon: reading(grown) });
    assert.deepEqual(
      later.events.map((e) => [e.type, e.source]),
      [['lower-daemon-modified', 'startup']],
    );
    const event = later.events[0]!;
    assert.ok(event.type === 'lower-daemon-modified');
    assert.deepEqual([event.before.validPaths, event.after], [1, grown]);
    assert.deepEqual(later.errors, []);
  });

  it('the daemon unavailable at start: WATCH_DAEMON_UNAVAILABLE naming it, the baseline identity carried over, no drift', async () => {
    const known = daemonIdentityOf(SOCKET, HELLO, [A]);
    const base = (await startupDrift({ layout }, undefined, { readDaemon: reading(known) })).current;
    const result = await startupDrift({ layout }, base, { readDaemon: failing });
    assert.deepEqual(result.events, []);
    assert.deepEqual(result.current.daemon, known, 'compared again once it answers');
    assert.equal(result.errors.length, 1);
    const error = result.errors[0]!;
    assert.equal(error.code, 'WATCH_DAEMON_UNAVAILABLE');
    assert.deepEqual(error.evidence, { socket: SOCKET, daemonError: 'DAEMON_CONNECT_FAILED' });
    assert.match(error.message, /ECONNREFUSED/);
    const firstRun = await startupDrift({ layout }, undefined, { readDaemon: failing });
    assert.equal(firstRun.current.daemon, null, 'a first run with the daemon down knows no identity');
  });

  it('an older baseline without a daemon identity: no drift, the identity recorded now', async () => {
    const { daemon: _dropped, ...old } = (await startupDrift({ layout }, undefined, { readDaemon: reading(daemonIdentityOf(SOCKET, HELLO, [A])) })).current;
    const result = await startupDrift({ layout }, old, { readDaemon: reading(daemonIdentityOf(SOCKET, HELLO, [A, B])) });
    assert.deepEqual(result.events, []);
    assert.equal(result.current.daemon?.validPaths, 2);
  });

  it('a lower store that is no daemon is never asked', async () => {
    const { daemonSocket: _none, ...lower } = layout.lower;
    const result = await startupDrift({ layout: { ...layout, lower } }, undefined, { readDaemon: failing });
    assert.deepEqual(result.errors, []);
    assert.equal('daemon' in result.current, false);
  });
});
