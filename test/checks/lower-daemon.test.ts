import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decideLowerDaemon, lowerDaemonProblem, probeLowerDaemon, type LowerDaemonFacts } from '../../agent/checks/lower-daemon.ts';
import { ids, layoutOf } from './literal-facts.ts';

const SOCKET = '/run/lower/daemon.sock';
const LOWER = layoutOf(`local-overlay://?root=/x/m&lower-store=${encodeURIComponent(`unix://${SOCKET}?real=/x/lower/nix/store`)}&upper-layer=/x/upper`).lower;
const HELLO = {
  version: { major: 1, minor: 34 },
  daemonVersion: { major: 1, minor: 34 },
  features: [],
  daemonFeatures: [],
  nixVersion: '2.8.0',
  trusted: undefined,
};
const fine: LowerDaemonFacts = { socket: SOCKET, file: { kind: 'socket', mode: 0o666, uid: 0, symlinkTo: undefined }, hello: HELLO, failure: undefined };
const failed = (code: NonNullable<LowerDaemonFacts['failure']>['code'], errno?: string): LowerDaemonFacts => ({
  ...fine,
  hello: undefined,
  failure: { code, message: `${code} on ${SOCKET}`, errno, hint: 'the client hint' },
});

describe('check layer.lower: a daemon lower store', () => {
  describe('deciding (pure)', () => {
    it('layer.lower-daemon (info) with the protocol, the Nix version and the trust in its evidence', () => {
      const [f, ...rest] = decideLowerDaemon(fine, LOWER);
      assert.equal(rest.length, 0);
      assert.equal(f?.id, 'layer.lower-daemon');
      assert.equal(f?.severity, 'info');
      assert.match(f?.message ?? '', /nix-daemon at \/run\/lower\/daemon\.sock: Nix 2\.8\.0, protocol 1\.34; it does not say whether it trusts this user/);
      assert.deepEqual(
        { ...f?.evidence },
        {
          socket: SOCKET,
          protocol: '1.34',
          daemonProtocol: '1.34',
          nixVersion: '2.8.0',
          trusted: null,
          features: [],
          socketMode: '0666',
          socketUid: 0,
          lowerStore: LOWER.url,
        },
      );
    });

    it('names a symlinked socket and its target, and says whether the daemon trusts this user', () => {
      const [f] = decideLowerDaemon(
        { ...fine, file: { kind: 'socket', mode: 0o660, uid: 0, symlinkTo: '/srv/d.sock' }, hello: { ...HELLO, trusted: false } },
        LOWER,
      );
      assert.match(f?.message ?? '', /daemon\.sock \(a symlink to \/srv\/d\.sock\).*does not trust this user/);
      assert.equal(f?.evidence['symlinkTo'], '/srv/d.sock');
      assert.equal(f?.evidence['trusted'], false);
    });

    const cases: Array<[string, LowerDaemonFacts, string, string | null, RegExp]> = [
      ['no socket', failed('DAEMON_CONNECT_FAILED', 'ENOENT'), 'missing', 'DAEMON_CONNECT_FAILED', /start the nix-daemon .*NIX_DAEMON_SOCKET_PATH/],
      [
        'a daemon that stopped',
        failed('DAEMON_CONNECT_FAILED', 'ECONNREFUSED'),
        'refused',
        'DAEMON_CONNECT_FAILED',
        /start the nix-daemon serving the lower store again/,
      ],
      ['no permission', failed('DAEMON_CONNECT_FAILED', 'EACCES'), 'denied', 'DAEMON_CONNECT_FAILED', /user allowed to open/],
      ['no answer', failed('DAEMON_TIMED_OUT'), 'timed-out', 'DAEMON_TIMED_OUT', /hung or overloaded/],
      ['no connection in time', failed('DAEMON_CONNECT_TIMED_OUT'), 'timed-out', 'DAEMON_CONNECT_TIMED_OUT', /hung or overloaded/],
      ['not a nix-daemon', failed('DAEMON_BAD_MAGIC'), 'handshake-failed', 'DAEMON_BAD_MAGIC', /^the client hint .*allowed-users/],
      ['closed in the handshake', failed('DAEMON_CLOSED'), 'handshake-failed', 'DAEMON_CLOSED', /allowed-users/],
      [
        'a directory',
        { ...fine, file: { kind: 'not-socket', fileType: 'a directory', symlinkTo: undefined }, hello: undefined },
        'not-socket',
        null,
        /fix the socket path in `lower-store`/,
      ],
    ];
    for (const [what, facts, problem, code, hint] of cases) {
      it(`layer.lower-daemon-unreachable (error) for ${what}: problem ${problem}, the DaemonError code in the evidence`, () => {
        assert.equal(lowerDaemonProblem(facts), problem);
        const [f, ...rest] = decideLowerDaemon(facts, LOWER);
        assert.equal(rest.length, 0);
        assert.equal(f?.id, 'layer.lower-daemon-unreachable');
        assert.equal(f?.severity, 'error');
        assert.equal(f?.evidence['problem'], problem);
        assert.equal(f?.evidence['code'], code);
        assert.equal(f?.evidence['socket'], SOCKET);
        assert.match(f?.hint ?? '', hint);
      });
    }
  });

  describe('probing (real sockets, no daemon needed)', () => {
    let dir = '';
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-lower-daemon-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const signal = new AbortController().signal;
    const quick = { connectTimeoutMs: 500, timeoutMs: 500 };

    it('a missing socket: DAEMON_CONNECT_FAILED, ENOENT', async () => {
      const facts = await probeLowerDaemon(LOWER, path.join(dir, 'none.sock'), signal, quick);
      assert.deepEqual(
        [facts.file.kind, facts.failure?.code, facts.failure?.errno, lowerDaemonProblem(facts)],
        ['missing', 'DAEMON_CONNECT_FAILED', 'ENOENT', 'missing'],
      );
    });

    it('a regular file is not connected to: not-socket', async () => {
      const file = path.join(dir, 'file.sock');
      fs.writeFileSync(file, '');
      const facts = await probeLowerDaemon(LOWER, file, signal, quick);
      assert.deepEqual(facts.file, { kind: 'not-socket', fileType: 'a regular file', symlinkTo: undefined });
      assert.equal(facts.failure, undefined);
      assert.deepEqual(ids(decideLowerDaemon(facts, LOWER)), ['layer.lower-daemon-unreachable']);
    });

    it('a peer that never answers: timed-out; one with a wrong magic: handshake-failed; a symlink to it is named', async () => {
      const silent = net.createServer(() => undefined);
      const wrong = net.createServer((c) => c.end(Buffer.from([0x34, 0x12, 0, 0, 0, 0, 0, 0])));
      const silentSock = path.join(dir, 'silent.sock');
      const wrongSock = path.join(dir, 'wrong.sock');
      await Promise.all([new Promise<void>((r) => silent.listen(silentSock, r)), new Promise<void>((r) => wrong.listen(wrongSock, r))]);
      fs.symlinkSync(wrongSock, path.join(dir, 'link.sock'));
      try {
        const hung = await probeLowerDaemon(LOWER, silentSock, signal, quick);
        assert.deepEqual([hung.failure?.code, lowerDaemonProblem(hung)], ['DAEMON_TIMED_OUT', 'timed-out']);
        const bad = await probeLowerDaemon(LOWER, path.join(dir, 'link.sock'), signal, quick);
        assert.deepEqual([bad.failure?.code, lowerDaemonProblem(bad)], ['DAEMON_BAD_MAGIC', 'handshake-failed']);
        assert.equal(bad.file.kind === 'socket' ? bad.file.symlinkTo : undefined, wrongSock);
      } finally {
        silent.close();
        wrong.close();
      }
    });
  });
});
