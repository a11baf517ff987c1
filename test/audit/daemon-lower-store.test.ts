/**
 * One real store, audited and verified twice: its lower metadata read from the lower store's SQLite DB
 * (`lower-store=ROOT?read-only=true`) and from a real Nix 2.8 nix-daemon serving that same lower store
 * (`lower-store=unix:///SOCK?real=ROOT/nix/store`, no DB file). The findings (of several kinds) must be the same,
 * once what names the DB file or the socket is normalised. Then the daemon is killed in the middle of an audit.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Finding } from '../../agent/findings/index.ts';
import { DaemonError, parseStoreUrl, resolveStoreLayout, type StoreLayout } from '../../agent/store/index.ts';
import { runAudit } from '../../agent/audit/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { startNixDaemon, type RunningNixDaemon } from '../support/nix-daemon.ts';
import {
  buildLowerThenUpper,
  COPY_UP,
  createNixOverlayFixture,
  parseAssignments,
  requireNixOverlayFixture,
  type NixOverlayFixture,
} from '../support/nix-overlay-fixture.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

/**
 * What the client sends before its first QueryPathInfo: magic, version, two obsolete fields, SetOptions (op, 12
 * fields, no overrides) and QueryAllValidPaths, 8 bytes each: 19 u64s.
 */
const HANDSHAKE_AND_LISTING_BYTES = 19 * 8;

const layoutOf = (url: string): StoreLayout => resolveStoreLayout(parseStoreUrl(url));

describe('a daemon lower store: audit and verify through a real nix-daemon equal those through its SQLite DB', function () {
  this.timeout(300_000);
  let f: NixOverlayFixture;
  let daemon: RunningNixDaemon;
  let daemonUrl: string;
  let sqliteUrl: string;
  let lowerDbFile: string;
  let p: Record<string, string>;

  const urlWith = (lowerStore: string): string =>
    `local-overlay://?root=${f.mergedRoot}&lower-store=${encodeURIComponent(lowerStore)}&upper-layer=${f.upperLayer}`;
  /** The findings as JSON text, with the lower DB file and the daemon's source both written LOWER. */
  const normalised = (findings: readonly Finding[]): string =>
    JSON.stringify(findings)
      .replaceAll(JSON.stringify(`nix-daemon ${daemon.socket}`).slice(1, -1), 'LOWER')
      .replaceAll(lowerDbFile, 'LOWER');
  const cli = async (argv: readonly string[]): Promise<{ code: number; findings: Finding[]; result: Record<string, unknown> }> => {
    const run = await runCliCaptured(argv);
    const parsed = JSON.parse(run.stdout) as { findings?: Finding[]; result?: Record<string, unknown> | null };
    assert.ok(parsed.findings !== undefined, `${argv.join(' ')}: ${run.stdout}${run.stderr}`);
    return { code: run.code, findings: parsed.findings, result: parsed.result ?? {} };
  };

  before(async function () {
    requireRoot(this);
    requireNixOverlayFixture(this);
    requireCommand(this, 'nix-daemon');
    f = createNixOverlayFixture();
    lowerDbFile = path.join(f.lowerRoot, 'nix/var/nix/db/db.sqlite');
    // Lower build, its metadata copied up, an upper build using lower inputs; then a lower GC breaks the upper
    // closures (dangling paths, broken closures).
    p = buildLowerThenUpper(f);
    f.unmounted('nix-store --store "$A" --gc >/dev/null 2>&1');
    Object.assign(
      p,
      parseAssignments(
        f.mounted(`${COPY_UP}
          # A duplicate: added through the overlay store, then to the lower store.
          mkdir -p "$EXPR.dup" && echo same > "$EXPR.dup/readme"
          echo dupUpper=$(nix-store --store "$B" --add "$EXPR.dup")
          echo dup=$(nix-store --store "$A" --add "$EXPR.dup")
          # Diverged: a lower path registered in the upper DB with another narHash.
          mkdir -p "$EXPR.div" && echo lower > "$EXPR.div/readme"
          div=$(nix-store --store "$A" --add "$EXPR.div")
          other=$(nix-store --store "$A" -q --hash "$(nix-store --store "$A" --add "$EXPR.dup")")
          nix-store --store "$A" --dump-db "$div" | sed "2s|.*|$other|" | nix-store --store "$B" --load-db
          echo div=$div
          # A stray: an upper-layer entry named like a store path that no DB registers.
          mkdir "$U/0000000000000000000000000000000a-stray" && echo x > "$U/0000000000000000000000000000000a-stray/f"
        `),
      ),
    );
    daemon = await startNixDaemon(f.lowerRoot, f.dir);
    daemonUrl = urlWith(`unix://${daemon.socket}?real=${f.lowerStoreDir}`);
    sqliteUrl = urlWith(`${f.lowerRoot}?read-only=true`);
  });

  after(async () => {
    await daemon?.kill();
    f?.remove();
  });

  it('the daemon URL has no lower DB file: its metadata can only come from the daemon', () => {
    const layout = layoutOf(daemonUrl);
    assert.equal(layout.lower.kind, 'daemon');
    assert.equal(layout.lower.db, undefined);
    assert.equal(layout.lower.daemonSocket, daemon.socket);
  });

  it('audit: the same findings, of several kinds, through either', async () => {
    const viaDb = await cli(['audit', '--json', '--store', sqliteUrl]);
    const viaDaemon = await cli(['audit', '--json', '--store', daemonUrl]);
    const kinds = new Set(viaDb.findings.map((x) => x.id));
    for (const id of ['store.dangling', 'store.broken-closure', 'store.duplicate', 'store.diverged', 'store.stray'] as const)
      assert.ok(kinds.has(id), `the scenario has ${id}: ${[...kinds].join(', ')}`);
    assert.ok(
      viaDb.findings.some((x) => x.id === 'store.diverged' && x.evidence['path'] === p['div']),
      'the path registered with another narHash is diverged',
    );
    assert.ok(viaDb.findings.some((x) => x.id === 'store.duplicate' && x.evidence['path'] === p['dup']));
    assert.equal(normalised(viaDaemon.findings), normalised(viaDb.findings));
    assert.equal(viaDaemon.code, viaDb.code);
  });

  it('verify --all: the same findings through either (the lower DB integrity check is not computed for a daemon)', async () => {
    const viaDb = await cli(['verify', '--json', '--all', '--store', sqliteUrl]);
    const viaDaemon = await cli(['verify', '--json', '--all', '--store', daemonUrl]);
    assert.ok(viaDb.findings.length > 0);
    assert.deepEqual(viaDb.result['notComputed'], []);
    assert.match(String((viaDaemon.result['notComputed'] as string[])[0]), /integrity check of the lower DB/);
    assert.equal(normalised(viaDaemon.findings), normalised(viaDb.findings));
    assert.equal(viaDaemon.code, viaDb.code);
  });

  it('verify of given paths: the same findings through either', async () => {
    const paths = [p['div']!, p['dup']!, p['upperOut']!];
    const viaDb = await cli(['verify', '--json', '--store', sqliteUrl, ...paths]);
    const viaDaemon = await cli(['verify', '--json', '--store', daemonUrl, ...paths]);
    assert.ok(viaDb.findings.some((x) => x.evidence['path'] === p['div']));
    assert.equal(normalised(viaDaemon.findings), normalised(viaDb.findings));
  });

  it('check: the same findings through either (the overlay is not mounted here: mount.not-mounted both ways)', async () => {
    const viaDb = await cli(['check', '--json', '--store', sqliteUrl]);
    const viaDaemon = await cli(['check', '--json', '--store', daemonUrl]);
    // But for the daemon's own line: the check shook hands with it (test/checks/lower-daemon-check-matches-sqlite.test.ts).
    assert.deepEqual(
      viaDaemon.findings.filter((x) => x.id === 'layer.lower-daemon').map((x) => x.evidence['socket']),
      [daemon.socket],
    );
    assert.equal(normalised(viaDaemon.findings.filter((x) => x.id !== 'layer.lower-daemon')), normalised(viaDb.findings));
  });

  it('dedupe and pivot dry runs: the same plans through either', async () => {
    const dead = path.join(f.dir, 'dead.txt');
    fs.writeFileSync(dead, `${p['div']}\n${p['dup']}\n`);
    for (const argv of [
      ['dedupe', '--json', '--direct'],
      ['pivot', '--json', '--dry-run', '--dead', dead],
    ]) {
      const viaDb = await cli([...argv, '--store', sqliteUrl]);
      const viaDaemon = await cli([...argv, '--store', daemonUrl]);
      assert.ok(JSON.stringify(viaDb.result).includes(argv[0] === 'dedupe' ? p['dup']! : p['div']!), `${argv[0]} plans: ${JSON.stringify(viaDb.result)}`);
      const planOf = (run: { findings: Finding[]; result: Record<string, unknown> }): string =>
        // Timings and the free space of the disk (other work writes there) are no part of the plan.
        normalised([...run.findings, { ...run.result, seconds: 0, space: { ...(run.result['space'] ?? {}), availableBytes: 0, availableInodes: 0 } } as never]);
      assert.equal(planOf(viaDaemon), planOf(viaDb), argv.join(' '));
    }
  });

  it('the daemon killed mid-audit: a typed DaemonError naming the op, no unhandled rejection; after a restart the audit works', async () => {
    // Between the client and the daemon, a pass-through that picks the moment: once the client has sent more than
    // the handshake, SetOptions and QueryAllValidPaths (the listing answered, its QueryPathInfo requests in flight),
    // the daemon is killed.
    const proxySocket = path.join(f.dir, 'proxy.sock');
    let killed: Promise<void> | undefined;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(daemon.socket);
      let sent = 0;
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        sent += chunk.length;
        if (sent > HANDSHAKE_AND_LISTING_BYTES && killed === undefined) killed = daemon.kill().then(() => void client.destroy());
      });
      upstream.on('data', (chunk: Buffer) => {
        if (killed === undefined) client.write(chunk);
      });
      upstream.on('error', () => undefined);
      client.on('error', () => undefined);
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(proxySocket, resolve));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): number => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const layout = layoutOf(urlWith(`unix://${proxySocket}?real=${f.lowerStoreDir}`));
      const error = await runAudit({ layout, signal: new AbortController().signal }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(killed !== undefined, 'the daemon was killed');
      await killed;
      assert.ok(error instanceof DaemonError, `a DaemonError, got ${String(error)}`);
      assert.equal(error.code, 'DAEMON_CLOSED', error.message);
      assert.equal(error.evidence['operation'], 'QueryPathInfo', error.message);
      const refused = await runAudit({ layout: layoutOf(daemonUrl), signal: new AbortController().signal }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(refused instanceof DaemonError && refused.code === 'DAEMON_CONNECT_FAILED', String(refused));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      proxy.close();
    }
    fs.rmSync(daemon.socket, { force: true });
    daemon = await startNixDaemon(f.lowerRoot, f.dir);
    const report = await runAudit({ layout: layoutOf(daemonUrl), signal: new AbortController().signal });
    assert.ok(report.findings.some((x) => x.id === 'store.diverged' && x.evidence['path'] === p['div']));
  });
});
