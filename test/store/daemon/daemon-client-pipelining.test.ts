/**
 * The client's decoding as bytes arrive and its pipelining, against a fake peer: a recorded Nix 2.8 answer split at
 * every byte boundary and in random chunks decodes to the same metadata; no more requests are unanswered at once than
 * maxInFlight; queryPathInfos keeps the caller's order, spreads over its connections, and fails as a whole.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { connectDaemon, type DaemonClient, type DaemonPathInfo } from '../../../agent/store/daemon/index.ts';
import {
  expectDaemonError,
  fakeDaemon,
  STDERR_ERROR,
  STDERR_LAST,
  STDERR_NEXT,
  STDERR_START_ACTIVITY,
  STDERR_STOP_ACTIVITY,
  wire,
  type Peer,
} from '../../support/fake-daemon-peer.ts';

const OP_QUERY_PATH_INFO = 26;

/** Nix 2.8's nix-daemon answering QueryPathInfo of RECORDED_INFO.path (a demo store served by it), as captured. */
const RECORDED_ANSWER = Buffer.from(
  '73746c61000000000100000000000000' +
    '3b000000000000002f6e69782f73746f72652f383171343666796c793269646c346669323678306e3467636c316e66736876732d676c6962632d332e312e362e64727600' +
    '00000000400000000000000065646464613735303537636133656562633733653734313337306666653334303337336663313532613135313336656336303765393931343734396466656630' +
    '03000000000000003a000000000000002f6e69782f73746f72652f356836766c7633647630616d733436336232716d70706862696d7771633369722d6d6573612d332e302e332d646f63000000000000' +
    '3a000000000000002f6e69782f73746f72652f61616e79307a7869646d3468636d7a337977717176696d62646d367a616863342d70637265322d332e32382d646576000000000000' +
    '35000000000000002f6e69782f73746f72652f7963666663377a62693968723839797a766a6632386b627676796976766931312d626173682d322e3238000000' +
    'e90d5465000000003801000000000000000000000000000000000000000000000000000000000000',
  'hex',
);
const RECORDED_INFO: DaemonPathInfo = {
  path: '/nix/store/00954s65563j5bnxvzdx6zs8bk63s5iz-glibc-3.1.6',
  narHash: 'sha256:eddda75057ca3eebc73e741370ffe340373fc152a15136ec607e9914749dfef0',
  narSize: 312,
  registrationTime: 1700007401,
  deriver: '/nix/store/81q46fyly2idl4fi26x0n4gcl1nfshvs-glibc-3.1.6.drv',
  ultimate: false,
  sigs: [],
  ca: undefined,
  references: [
    '/nix/store/5h6vlv3dv0ams463b2qmpphbimwqc3ir-mesa-3.0.3-doc',
    '/nix/store/aany0zxidm4hcmz3ywqqvimbdm6zahc4-pcre2-3.28-dev',
    '/nix/store/ycffc7zbi9hr89yzvjf28kbvvyivvi11-bash-2.28',
  ],
};
/** Log messages a daemon may send first (a line, an activity with both kinds of field, its end), then the answer. */
const ANSWER_WITH_LOGS = Buffer.concat([
  wire(STDERR_NEXT, 'querying path info'),
  wire(STDERR_START_ACTIVITY, 9, 4, 105, 'querying', 2, 0, 7, 1, 'a field', 0),
  wire(STDERR_STOP_ACTIVITY, 9),
  RECORDED_ANSWER,
]);

/** Valid metadata for any path: what the window and bulk tests answer (the hash and size derived from the path). */
function answerFor(storePath: string): Buffer {
  const hash = Buffer.from(storePath.padEnd(32, 'x').slice(-32)).toString('hex');
  return wire(STDERR_LAST, 1, '', hash, 0, 1700000000, storePath.length, 0, 0, '');
}

function infoFor(storePath: string): DaemonPathInfo {
  const narHash = `sha256:${Buffer.from(storePath.padEnd(32, 'x').slice(-32)).toString('hex')}`;
  return {
    path: storePath,
    narHash,
    narSize: storePath.length,
    registrationTime: 1700000000,
    deriver: undefined,
    ultimate: false,
    sigs: [],
    ca: undefined,
    references: [],
  };
}

const pathNo = (i: number): string => `/nix/store/${String(i).padStart(32, '0')}-p`;

/** Reads one QueryPathInfo request; returns its path. */
async function readPathInfoRequest(peer: Peer): Promise<string> {
  assert.equal(await peer.u64(), OP_QUERY_PATH_INFO);
  return peer.string();
}

/** Writes `bytes` in pieces of the given sizes (the rest in one), pausing between them so the client reads each alone. */
async function writeInPieces(peer: Peer, bytes: Buffer, sizes: readonly number[]): Promise<void> {
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    peer.socket.write(bytes.subarray(at, at + size));
    at += size;
    await sleep(1);
  }
  if (at < bytes.length) peer.socket.write(bytes.subarray(at));
}

describe('nix-daemon client: answers decoded as bytes arrive, requests pipelined', function () {
  let dir: string;
  const servers: net.Server[] = [];
  const clients: DaemonClient[] = [];

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-daemon-pipelining-'));
  });

  afterEach(function () {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) server.close();
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function connect(script: (peer: Peer) => Promise<void>, options: Parameters<typeof connectDaemon>[1] = {}): Promise<DaemonClient> {
    const fake = await fakeDaemon(dir, script);
    servers.push(fake.server);
    const client = await connectDaemon(fake.socket, { timeoutMs: 10_000, ...options });
    clients.push(client);
    return client;
  }

  it('a recorded answer (after log messages) split in two at every byte boundary: the same metadata each time', async function () {
    const splits = Array.from({ length: ANSWER_WITH_LOGS.length - 1 }, (_, i) => i + 1);
    const logs: unknown[] = [];
    const client = await connect(
      async (peer) => {
        await peer.handshake(34);
        for (const split of splits) {
          assert.equal(await readPathInfoRequest(peer), RECORDED_INFO.path);
          await writeInPieces(peer, ANSWER_WITH_LOGS, [split]);
        }
      },
      { onLog: (event) => logs.push(event) },
    );
    for (const split of splits) {
      assert.deepEqual(await client.queryPathInfo(RECORDED_INFO.path), RECORDED_INFO, `split at byte ${split}`);
    }
    // Each log message reported once per answer, however the answer was split.
    assert.equal(logs.length, 3 * splits.length);
  });

  it('several pipelined answers in random chunks (fast-check): the same metadata, in order', async function () {
    const invalid = wire(STDERR_LAST, 0);
    const paths = [RECORDED_INFO.path, pathNo(1), RECORDED_INFO.path, pathNo(2)];
    const answers = Buffer.concat([ANSWER_WITH_LOGS, invalid, RECORDED_ANSWER, answerFor(pathNo(2))]);
    const plans: number[][] = [];
    const client = await connect(async (peer) => {
      await peer.handshake(34);
      for (;;) {
        for (const expected of paths) assert.equal(await readPathInfoRequest(peer), expected);
        await writeInPieces(peer, answers, plans.shift()!);
      }
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 96 }), { minLength: 1, maxLength: 24 }), async (plan) => {
        plans.push(plan);
        assert.deepEqual(await client.queryPathInfos(paths), [RECORDED_INFO, undefined, RECORDED_INFO, infoFor(pathNo(2))]);
      }),
      { numRuns: 40 },
    );
  });

  it('never more requests unanswered than maxInFlight, and more than one at a time (pipelined)', async function () {
    const maxInFlight = 8;
    let most = 0;
    const count = 600;
    const client = await connect(
      async (peer) => {
        await peer.handshake(34);
        const unanswered: string[] = [];
        for (let served = 0; served < count;) {
          unanswered.push(await readPathInfoRequest(peer));
          most = Math.max(most, unanswered.length);
          // Answer once nothing more has come in: what the client sent before waiting for answers.
          if (peer.buffered === 0) {
            await sleep(1);
            if (peer.buffered > 0) continue;
            peer.socket.write(Buffer.concat(unanswered.map(answerFor)));
            served += unanswered.length;
            unanswered.length = 0;
          }
        }
      },
      { maxInFlight },
    );
    const paths = Array.from({ length: count }, (_, i) => pathNo(i));
    assert.deepEqual(await client.queryPathInfos(paths), paths.map(infoFor));
    assert.ok(most <= maxInFlight, `${most} requests were unanswered at once`);
    assert.ok(most > 1, 'requests are pipelined');
  });

  it('queryPathInfos over two connections: both used, answers in the order asked', async function () {
    const served: number[] = [];
    const client = await connect(
      async (peer) => {
        await peer.handshake(34);
        const me = served.push(0) - 1;
        for (;;) {
          const asked = await readPathInfoRequest(peer);
          served[me]!++;
          peer.socket.write(answerFor(asked));
        }
      },
      { connections: 2, maxInFlight: 4 },
    );
    const paths = Array.from({ length: 400 }, (_, i) => pathNo(i));
    assert.deepEqual(await client.queryPathInfos(paths), paths.map(infoFor));
    assert.equal(served.length, 2);
    assert.ok(
      served.every((n) => n > 0),
      `paths per connection: ${served.join(', ')}`,
    );
    assert.equal(
      served.reduce((a, b) => a + b, 0),
      400,
    );
  });

  it('queryPathInfos with one path refused (STDERR_ERROR): DAEMON_REMOTE_ERROR naming QueryPathInfo, and the connection goes on', async function () {
    const refused = pathNo(5);
    const client = await connect(async (peer) => {
      await peer.handshake(34);
      for (;;) {
        const asked = await readPathInfoRequest(peer);
        if (asked === refused) peer.send(STDERR_ERROR, 'Error', 0, 'Error', `path '${asked}' is not allowed`, 0, 0);
        else peer.socket.write(answerFor(asked));
      }
    });
    const error = await expectDaemonError(client.queryPathInfos(Array.from({ length: 50 }, (_, i) => pathNo(i))), 'DAEMON_REMOTE_ERROR', 'QueryPathInfo');
    assert.match(String(error.evidence['daemonMessage']), /is not allowed/);
    assert.deepEqual(await client.queryPathInfo(pathNo(60)), infoFor(pathNo(60)));
  });

  for (const [how, end] of [
    ['goes silent', 'DAEMON_TIMED_OUT'],
    ['closes the connection mid-answer', 'DAEMON_CLOSED'],
  ] as const) {
    it(`queryPathInfos when the daemon ${how} after 10 answers: ${end} naming QueryPathInfo, and later calls fail at once`, async function () {
      const client = await connect(
        async (peer) => {
          await peer.handshake(34);
          for (let answered = 0; ; answered++) {
            const asked = await readPathInfoRequest(peer);
            if (answered < 10) peer.socket.write(answerFor(asked));
            else if (end === 'DAEMON_CLOSED') return void peer.socket.end(answerFor(asked).subarray(0, 20));
          }
        },
        { timeoutMs: 300, maxInFlight: 4 },
      );
      await expectDaemonError(client.queryPathInfos(Array.from({ length: 50 }, (_, i) => pathNo(i))), end, 'QueryPathInfo');
      const later = await expectDaemonError(client.queryPathInfos([pathNo(1)]), end, 'QueryPathInfo');
      assert.equal(later.evidence['failedOperation'], 'QueryPathInfo');
    });
  }

  it('an option connections or maxInFlight that is not a positive integer: DAEMON_BAD_ARGUMENT naming it', async function () {
    for (const options of [{ connections: 0 }, { maxInFlight: 1.5 }]) {
      const error = await expectDaemonError(connectDaemon(path.join(dir, 'never.sock'), options), 'DAEMON_BAD_ARGUMENT');
      assert.equal(error.evidence['option'], Object.keys(options)[0]);
    }
  });
});
