/**
 * A lower store served by a peer that implements less than Nix's daemon, as snix does: a fake daemon (a small
 * socket server) answering IsValidPath and QueryPathInfo from the real lower store's DB, QueryReferrers with [],
 * and refusing QueryAllValidPaths, with STDERR_ERROR or (as snix does) by dropping the connection. The audit must
 * complete, with one `store.lower-metadata-partial` naming the op and the daemon's answer, and otherwise the
 * findings the lower store's SQLite DB gives (nothing is missing from its layer here).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Finding } from '../../agent/findings/index.ts';
import { DaemonError, loadDaemonSnapshot, openNixDb, type PathInfo } from '../../agent/store/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { startFakeNixDaemon, type FakeNixDaemon, type ListingMode } from '../support/fake-nix-daemon.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('a daemon lower store that implements less (snix-like): the audit completes with store.lower-metadata-partial', function () {
  this.timeout(120_000);
  let f: NixOverlayFixture;
  let infos: PathInfo[];
  let viaDb: Finding[];
  let p: Record<string, string>;
  const peers: FakeNixDaemon[] = [];

  const urlWith = (lowerStore: string): string =>
    `local-overlay://?root=${f.mergedRoot}&lower-store=${encodeURIComponent(lowerStore)}&upper-layer=${f.upperLayer}`;
  const audit = async (url: string): Promise<Finding[]> => {
    const run = await runCliCaptured(['audit', '--json', '--store', url]);
    assert.ok(run.code === 0 || run.code === 1, `${run.code}: ${run.stdout}${run.stderr}`);
    return (JSON.parse(run.stdout) as { findings: Finding[] }).findings;
  };
  const withoutSource = (findings: readonly Finding[], source: string): string =>
    JSON.stringify(findings).replaceAll(source, 'LOWER').replaceAll(path.join(f.lowerRoot, 'nix/var/nix/db/db.sqlite'), 'LOWER');

  before(async function () {
    requireNixOverlayFixture(this);
    f = createNixOverlayFixture();
    p = parseAssignments(
      f.mounted(`${COPY_UP}
        mkdir -p "$EXPR.base" && echo base > "$EXPR.base/readme"
        base=$(nix-store --store "$A" --add "$EXPR.base")
        copy_up "$base"
        # A duplicate: added through the overlay store, then to the lower store.
        mkdir -p "$EXPR.dup" && echo same > "$EXPR.dup/readme"
        nix-store --store "$B" --add "$EXPR.dup" >/dev/null
        echo dup=$(nix-store --store "$A" --add "$EXPR.dup")
        # Diverged: a lower path registered in the upper DB with another narHash.
        mkdir -p "$EXPR.div" && echo lower > "$EXPR.div/readme"
        div=$(nix-store --store "$A" --add "$EXPR.div")
        nix-store --store "$A" --dump-db "$div" | sed "2s|.*|$(nix-store --store "$A" -q --hash "$base")|" | nix-store --store "$B" --load-db
        echo div=$div
        mkdir "$U/0000000000000000000000000000000a-stray"
        # A lower path whose only copy is in the upper layer (its lower copy deleted).
        mkdir -p "$EXPR.moved" && echo moved > "$EXPR.moved/readme"
        moved=$(nix-store --store "$A" --add "$EXPR.moved")
        cp -a "$A$moved" "$U/" && chmod -R u+w "$A$moved" && rm -rf "$A$moved"
        echo moved=$moved
      `),
    );
    const db = openNixDb(path.join(f.lowerRoot, 'nix/var/nix/db/db.sqlite'), { immutable: true });
    try {
      infos = [...db.iterateValidPaths()].map((row) => db.queryPathInfo(row.path)!);
    } finally {
      db.close();
    }
    viaDb = await audit(urlWith(`${f.lowerRoot}?read-only=true`));
    const kinds = new Set(viaDb.map((x) => x.id));
    for (const id of ['store.duplicate', 'store.diverged', 'store.stray'] as const)
      assert.ok(kinds.has(id), `the scenario has ${id}: ${[...kinds].join(', ')}`);
  });

  afterEach(async () => {
    for (const peer of peers.splice(0)) await peer.close();
  });
  after(() => f?.remove());

  const serve = async (listing: ListingMode, options: { hangAfterPathInfos?: number } = {}): Promise<FakeNixDaemon> => {
    const peer = await startFakeNixDaemon(f.dir, infos, listing, options);
    peers.push(peer);
    return peer;
  };

  for (const [listing, said] of [
    ['stderr-error', /Operation QueryAllValidPaths is not implemented/],
    ['close', /closed the connection/],
  ] as const) {
    it(`QueryAllValidPaths refused (${listing}): one partial finding naming the op and the answer; the other findings as through the DB`, async () => {
      const peer = await serve(listing);
      const findings = await audit(urlWith(`unix://${peer.socket}?real=${f.lowerStoreDir}`));
      const partial = findings.filter((x) => x.id === 'store.lower-metadata-partial');
      assert.equal(partial.length, 1, JSON.stringify(findings.map((x) => x.id)));
      const [finding] = partial;
      assert.equal(finding!.severity, 'warning');
      const refused = finding!.evidence['refused'] as { operation: string; message: string }[];
      assert.deepEqual(
        refused.map((x) => x.operation),
        ['QueryAllValidPaths'],
      );
      assert.match(refused[0]!.message, said);
      assert.match(finding!.message, /QueryAllValidPaths/);
      assert.ok((finding!.evidence['notComputed'] as string[]).includes('store.dangling'));
      assert.match(finding!.hint ?? '', /overlay-warden audit/);
      const others = findings.filter((x) => x.id !== 'store.lower-metadata-partial');
      assert.equal(withoutSource(others, `nix-daemon ${peer.socket}`), withoutSource(viaDb, `nix-daemon ${peer.socket}`));
      assert.ok(peer.ops.includes('QueryPathInfo'));
      assert.ok(!peer.ops.includes('QueryReferrers'), 'referrers come from the references read, not from a peer that may answer []');
    });
  }

  it('a peer that lists its paths: no partial finding, the same findings as through the DB', async () => {
    const peer = await serve('answer');
    const findings = await audit(urlWith(`unix://${peer.socket}?real=${f.lowerStoreDir}`));
    assert.equal(withoutSource(findings, `nix-daemon ${peer.socket}`), withoutSource(viaDb, `nix-daemon ${peer.socket}`));
    assert.ok(findings.some((x) => x.id === 'store.diverged' && x.evidence['path'] === p['div']));
    assert.ok(findings.some((x) => x.id === 'store.duplicate' && x.evidence['path'] === p['dup']));
  });

  it('verify of one path asks the daemon about that path alone, and judges it as through the DB', async () => {
    const peer = await serve('answer');
    const run = async (lowerStore: string): Promise<Finding[]> => {
      const result = await runCliCaptured(['verify', '--json', '--store', urlWith(lowerStore), p['div']!]);
      return (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    };
    const viaPeer = await run(`unix://${peer.socket}?real=${f.lowerStoreDir}`);
    const viaLowerDb = await run(`${f.lowerRoot}?read-only=true`);
    assert.deepEqual(
      peer.ops.filter((op) => op !== 'SetOptions'),
      ['QueryPathInfo'],
    );
    assert.ok(
      viaLowerDb.some((x) => x.evidence['path'] === p['div']),
      'the path registered upper with another narHash is a finding',
    );
    assert.equal(withoutSource(viaPeer, `nix-daemon ${peer.socket}`), withoutSource(viaLowerDb, `nix-daemon ${peer.socket}`));
  });

  it('a peer that stops answering in the middle of the read: DAEMON_TIMED_OUT naming QueryPathInfo, no hang', async () => {
    const peer = await serve('answer', { hangAfterPathInfos: 2 });
    const error = await loadDaemonSnapshot({ socket: peer.socket, storeDir: '/nix/store', candidateDirs: [], timeoutMs: 300 }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof DaemonError, String(error));
    assert.equal(error.code, 'DAEMON_TIMED_OUT', error.message);
    assert.equal(error.evidence['operation'], 'QueryPathInfo');
  });
});
