/**
 * `check` of one real overlay (a lower store built by Nix 2.8, mounted in a private namespace) whose lower store is
 * named twice: by its root (`?read-only=true`: its SQLite DB) and by the socket of a real nix-daemon serving that root
 * (`unix://SOCK?real=ROOT/nix/store`: no DB file to read). Both find the same, but for the daemon's own line; with the
 * daemon stopped, the daemon URL's check is an error.
 */
import assert from 'node:assert/strict';
import type { Finding } from '../../agent/findings/index.ts';
import { CLI_MAIN } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';
import { MountNamespace } from '../support/mount-namespace.ts';
import { startNixDaemon, type RunningNixDaemon } from '../support/nix-daemon.ts';
import {
  buildLowerThenUpper,
  createNixOverlayFixture,
  MOUNT_OVERLAY,
  requireNixOverlayFixture,
  scriptEnv,
  type NixOverlayFixture,
} from '../support/nix-overlay-fixture.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

describe('check through a nix-daemon lower store gives what check through its SQLite DB gives', function () {
  let fixture: NixOverlayFixture | undefined;
  let daemon: RunningNixDaemon | undefined;
  let ns: MountNamespace | undefined;
  let sqliteUrl = '';
  let daemonUrl = '';

  before(async function () {
    requireRoot(this);
    requireNixOverlayFixture(this);
    requireCommand(this, 'nix-daemon');
    fixture = createNixOverlayFixture();
    buildLowerThenUpper(fixture);
    daemon = await startNixDaemon(fixture.lowerRoot, fixture.dir);
    ns = await MountNamespace.open({ setup: MOUNT_OVERLAY, env: scriptEnv(fixture) });
    const overlay = (lowerStore: string): string =>
      `local-overlay://?root=${fixture!.mergedRoot}&lower-store=${encodeURIComponent(lowerStore)}&upper-layer=${fixture!.upperLayer}`;
    sqliteUrl = overlay(`${fixture.lowerRoot}?read-only=true`);
    daemonUrl = overlay(`unix://${daemon.socket}?real=${fixture.lowerStoreDir}`);
  });

  after(async () => {
    await ns?.close();
    await daemon?.kill();
    fixture?.remove();
  });

  /** `overlay-warden check --json --store URL` inside the namespace that holds the overlay. */
  function check(url: string): { status: number | null; findings: Finding[]; nixAccepts: boolean } {
    const run = ns!.inside([process.execPath, CLI_MAIN, 'check', '--json', '--store', url]);
    const report = reportOf<{ findings: Finding[]; mount: { nixCheckMount: { accepted: boolean } } }>(run.stdout, 'check');
    return { status: run.status, findings: report.findings, nixAccepts: report.mount.nixCheckMount.accepted };
  }

  /** A finding without the lower store URL its evidence may name (the one thing the two URLs must differ in). */
  function comparable(f: Finding): unknown {
    const { lowerStore: _, ...evidence } = f.evidence;
    return { ...f, evidence };
  }

  it('the same findings, but for the daemon line (protocol 1.34, Nix 2.8) and no DB line', () => {
    const viaDb = check(sqliteUrl);
    const viaDaemon = check(daemonUrl);
    assert.equal(viaDaemon.status, viaDb.status, JSON.stringify(viaDaemon.findings, null, 2));
    assert.ok(
      viaDb.findings.some((f) => f.id === 'mount.ok'),
      JSON.stringify(viaDb.findings, null, 2),
    );
    const daemonLines = viaDaemon.findings.filter((f) => f.id === 'layer.lower-daemon');
    assert.equal(daemonLines.length, 1, JSON.stringify(viaDaemon.findings, null, 2));
    assert.equal(daemonLines[0]!.evidence['socket'], daemon!.socket);
    assert.equal(daemonLines[0]!.evidence['protocol'], '1.34');
    assert.match(String(daemonLines[0]!.evidence['nixVersion']), /^2\.8/);
    assert.deepEqual(viaDaemon.findings.filter((f) => f.id !== 'layer.lower-daemon').map(comparable), viaDb.findings.map(comparable));
    assert.ok(!viaDb.findings.some((f) => f.id.startsWith('layer.lower-db') || f.id.startsWith('layer.lower-daemon')));
    // Nix's own check-mount takes the daemon store's `real` as the lowerdir it expects, as it takes a local store's.
    assert.deepEqual([viaDb.nixAccepts, viaDaemon.nixAccepts], [true, true]);
  });

  it('the daemon stopped (its socket left behind): layer.lower-daemon-unreachable, refused, exit 1', async () => {
    await daemon!.kill();
    const viaDaemon = check(daemonUrl);
    assert.equal(viaDaemon.status, 1);
    const errors = viaDaemon.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(
      errors.map((f) => [f.id, f.evidence['problem'], f.evidence['code'], f.evidence['errno']]),
      [['layer.lower-daemon-unreachable', 'refused', 'DAEMON_CONNECT_FAILED', 'ECONNREFUSED']],
    );
    assert.match(errors[0]!.hint ?? '', /start the nix-daemon serving the lower store again/);
  });
});
