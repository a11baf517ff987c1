import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDaemon, DaemonError, type DaemonClient } from '../../../agent/store/daemon/index.ts';
import { readNixDb } from '../../../agent/store/nix-db.ts';
import type { PathInfo } from '../../../agent/store/nix-db-rows.ts';
import { buildNixFixtureStore, type NixFixtureStore } from '../../support/nix-fixture-store.ts';
import { runNix } from '../../support/nix-kit.ts';
import { startNixDaemon, type RunningNixDaemon } from '../../support/nix-daemon.ts';
import { requireCommand, requireNix, requireRoot } from '../../support/requirements.ts';

/** What the same store's SQLite DB says, the oracle every daemon answer is compared with. */
interface DbView {
  readonly infos: Map<string, PathInfo>;
  readonly referrers: Map<string, string[]>;
  readonly derivers: Map<string, string[]>;
}

function readDbView(root: string): DbView {
  return readNixDb(path.join(root, 'nix/var/nix/db/db.sqlite'), { immutable: false }, (db) => {
    const infos = new Map<string, PathInfo>();
    const referrers = new Map<string, string[]>();
    const derivers = new Map<string, string[]>();
    for (const row of db.iterateValidPaths()) {
      const info = db.queryPathInfo(row.path);
      assert.ok(info);
      infos.set(row.path, info);
      referrers.set(row.path, db.queryReferrers(row.path) ?? []);
    }
    // A valid deriver of an output is a registered .drv among the rows whose deriver names it (as Nix's DerivationOutputs).
    for (const info of infos.values()) {
      if (info.deriver !== undefined && infos.has(info.deriver)) derivers.set(info.path, [info.deriver]);
    }
    return { infos, referrers, derivers };
  });
}

describe('nix-daemon client against a real Nix 2.8 daemon', function () {
  let work: string;
  let store: NixFixtureStore;
  let daemon: RunningNixDaemon;
  let client: DaemonClient;
  let db: DbView;

  before(async function () {
    requireRoot(this);
    requireNix(this);
    requireCommand(this, 'nix-daemon');
    requireCommand(this, 'busybox');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-daemon-'));
    store = buildNixFixtureStore(path.join(work, 'root'), work);
    // Signatures, so that the comparison covers them too.
    const key = path.join(work, 'key.sec');
    runNix('nix-store', ['--generate-binary-cache-key', 'test-key-1', key, path.join(work, 'key.pub')]);
    runNix('nix', ['--extra-experimental-features', 'nix-command', 'store', 'sign', '--store', store.root, '--key-file', key, '--all']);
    db = readDbView(store.root);
    daemon = await startNixDaemon(store.root, work);
    client = await connectDaemon(daemon.socket, { timeoutMs: 20_000 });
  });

  after(async function () {
    client?.close();
    await daemon?.kill();
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  it("negotiates Nix 2.8's protocol 1.34 and learns its Nix version", function () {
    assert.deepEqual(client.hello.version, { major: 1, minor: 34 });
    assert.match(client.hello.nixVersion ?? '', /^2\.8/);
    assert.deepEqual(client.hello.daemonFeatures, []);
  });

  it('QueryAllValidPaths lists exactly the DB rows', async function () {
    assert.deepEqual(await client.queryAllValidPaths(), [...db.infos.keys()].sort());
  });

  it('QueryPathInfo equals the DB for every path: narHash, narSize, references, deriver, registration time, sigs, ca', async function () {
    let withCa = 0;
    let withDeriver = 0;
    let withSigs = 0;
    for (const [storePath, expected] of db.infos) {
      const info = await client.queryPathInfo(storePath);
      assert.ok(info, storePath);
      assert.equal(info.narHash, expected.narHash, storePath);
      assert.equal(info.narSize, expected.narSize, storePath);
      assert.deepEqual(info.references, [...expected.references].sort(), storePath);
      assert.equal(info.deriver, expected.deriver, storePath);
      assert.equal(info.registrationTime, expected.registrationTime, storePath);
      assert.deepEqual(info.sigs, [...expected.sigs].sort(), storePath);
      assert.equal(info.ca, expected.ca, storePath);
      assert.equal(info.ultimate, expected.ultimate, storePath);
      if (info.ca !== undefined) withCa++;
      if (info.deriver !== undefined) withDeriver++;
      if (info.sigs.length > 0) withSigs++;
    }
    assert.ok(withCa > 0 && withDeriver > 0, 'the fixture has paths with a ca and with a deriver');
    assert.equal(withSigs, db.infos.size, 'every path is signed');
  });

  it('queryPathInfos over two connections (maxInFlight 3) equals the DB for every path, in the order asked, invalid ones undefined', async function () {
    const absent = '/nix/store/00000000000000000000000000000000-absent';
    const paths = [...db.infos.keys()].reverse();
    paths.splice(1, 0, absent);
    const bulk = await connectDaemon(daemon.socket, { timeoutMs: 20_000, connections: 2, maxInFlight: 3 });
    try {
      const infos = await bulk.queryPathInfos(paths);
      assert.deepEqual(
        infos,
        paths.map((storePath) => {
          const expected = db.infos.get(storePath);
          if (expected === undefined) return undefined;
          const { id: _id, ...info } = expected;
          return { ...info, references: [...info.references].sort(), sigs: [...info.sigs].sort() };
        }),
      );
    } finally {
      bulk.close();
    }
  });

  it('overlapping calls are pipelined on one connection, each getting its own answer', async function () {
    const paths = [...db.infos.keys()];
    const [infos, referrers, valid] = await Promise.all([
      Promise.all(paths.map((storePath) => client.queryPathInfo(storePath))),
      Promise.all(paths.map((storePath) => client.queryReferrers(storePath))),
      Promise.all(paths.map((storePath) => client.isValidPath(storePath))),
    ]);
    assert.deepEqual(
      infos.map((info) => info?.narHash),
      paths.map((storePath) => db.infos.get(storePath)?.narHash),
    );
    assert.deepEqual(
      referrers,
      paths.map((storePath) => [...(db.referrers.get(storePath) ?? [])].sort()),
    );
    assert.ok(valid.every((answer) => answer));
  });

  it('QueryPathInfo and IsValidPath of a path the store does not have', async function () {
    const missing = '/nix/store/00000000000000000000000000000000-missing';
    assert.equal(await client.queryPathInfo(missing), undefined);
    assert.equal(await client.isValidPath(missing), false);
    assert.equal(await client.isValidPath(store.outputs.tool), true);
  });

  it('QueryValidPaths answers valid and invalid paths together, in batches', async function () {
    const small = await connectDaemon(daemon.socket, { validPathsBatch: 2 });
    try {
      const missing = ['/nix/store/00000000000000000000000000000000-a', '/nix/store/11111111111111111111111111111111-b'];
      const asked = [missing[0]!, ...db.infos.keys(), missing[1]!];
      assert.deepEqual(await small.queryValidPaths(asked), [...db.infos.keys()]);
    } finally {
      small.close();
    }
  });

  it('QueryReferrers equals the DB for every path', async function () {
    for (const [storePath, expected] of db.referrers) {
      assert.deepEqual(await client.queryReferrers(storePath), [...expected].sort(), storePath);
    }
  });

  it('QueryValidDerivers names the .drv of each built output', async function () {
    for (const output of Object.values(store.outputs)) {
      const expected = db.derivers.get(output);
      assert.ok(expected, `the DB names a valid deriver of ${output}`);
      assert.deepEqual(await client.queryValidDerivers(output), expected);
    }
  });

  it('QueryPathFromHashPart finds every path by its hash part, and none for an unknown one', async function () {
    for (const storePath of db.infos.keys()) {
      const hashPart = path.basename(storePath).slice(0, 32);
      assert.equal(await client.queryPathFromHashPart(hashPart), storePath);
    }
    assert.equal(await client.queryPathFromHashPart('0'.repeat(32)), undefined);
  });

  it('QueryRealisation is not sent by default; Nix 2.8 without ca-derivations drops the connection on it (why)', async function () {
    const id = `sha256:${'ab'.repeat(32)}!out`;
    await assert.rejects(
      () => client.queryRealisation(id),
      (error) => error instanceof DaemonError && error.code === 'DAEMON_UNSUPPORTED_OPERATION',
    );
    assert.equal(await client.isValidPath(store.added), true, 'the connection is still usable');
    const brave = await connectDaemon(daemon.socket, { realisations: true, timeoutMs: 20_000 });
    await assert.rejects(
      () => brave.queryRealisation(id),
      (error) => error instanceof DaemonError && error.code === 'DAEMON_CLOSED' && error.evidence['operation'] === 'QueryRealisation',
    );
    brave.close();
  });

  it('refuses a path outside the store dir before sending it', async function () {
    await assert.rejects(
      () => client.isValidPath('/etc/passwd'),
      (error) => error instanceof DaemonError && error.code === 'DAEMON_BAD_ARGUMENT',
    );
    assert.equal(await client.isValidPath(store.added), true, 'the connection is still usable');
  });

  it('daemon killed mid-operation: DAEMON_CLOSED naming the operation, then at once for the next one', async function () {
    const doomed = await connectDaemon(daemon.socket, { timeoutMs: 20_000 });
    const pending = Promise.all([...db.infos.keys()].map((storePath) => doomed.queryPathInfo(storePath)));
    const outcome = pending.then(
      () => undefined,
      (error: unknown) => error,
    );
    // kill() signals synchronously, before the queued requests get their answers: the first one is always pending.
    await daemon.kill();
    const error = await outcome;
    assert.ok(error instanceof DaemonError, String(error));
    assert.equal(error.code, 'DAEMON_CLOSED');
    assert.equal(error.evidence['operation'], 'QueryPathInfo');
    await assert.rejects(
      () => doomed.isValidPath(store.added),
      (later) => later instanceof DaemonError && later.code === 'DAEMON_CLOSED' && later.evidence['operation'] === 'IsValidPath',
    );
    doomed.close();
  });
});
