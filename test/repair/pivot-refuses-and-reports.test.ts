/**
 * What pivot refuses or leaves to the user, on a real overlay of Nix-2.8-built stores: --dead lines that are not store
 * paths of this store (named by line number), Nix's GC lock held by someone else (waited for, then refused), an upper
 * layer too small for the copies (a tiny tmpfs, in a private namespace: nothing copied), and a needed path the upper
 * DB does not register (reported with the Nix command that registers it, never copied). A temporary copy an
 * interrupted run left behind is removed by the next one.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { CLI_MAIN, runCliCaptured } from '../support/cli-run.ts';
import { parseEnvelope } from '../support/json-output.ts';
import { inFreshNamespace } from '../support/mount-namespace.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';
import { waitFor } from '../support/wait-for.ts';
import { buildPivotScenario, forgetInUpperDb, lines, printDead, type PivotScenario } from './pivot-support.ts';

interface Envelope {
  readonly exitCode: number;
  readonly result: {
    toCopy: { path: string }[];
    copied: string[];
    problems: { path: string; reason: string; command?: string; message: string }[];
    leftoversRemoved: number;
    space: { fits: boolean; neededBytes: number; availableBytes: number };
  } | null;
  readonly error: { code: string; message: string; evidence: Record<string, unknown>; hint?: string } | null;
}

describe('pivot refuses bad input, a held GC lock and a full upper layer, and reports what it cannot copy', function () {
  this.timeout(300_000);
  let s: PivotScenario;
  let dead: { file: string; paths: string[] };
  let upperPaths: string[];

  const pivot = async (...argv: string[]): Promise<Envelope> => {
    const run = await runCliCaptured(['pivot', ...argv, '--json', '--store', s.f.storeUrl], { OVERLAY_WARDEN_SOCKET: s.socket });
    return parseEnvelope(run.stdout, 'pivot') as unknown as Envelope;
  };
  const upperListing = (): string[] => fs.readdirSync(s.f.upperLayer).sort();

  before(function () {
    requireRoot(this);
    requireNixOverlayFixture(this);
    requireCommand(this, 'flock');
    s = buildPivotScenario();
    dead = printDead(s);
    upperPaths = upperListing();
  });
  after(() => s?.f.remove());

  it('--lower-db of the replacement DB (the lower store after its GC) plans the same copies as its --dead list', async () => {
    const next = `${s.f.dir}/next-lower`;
    s.f.unmounted(`cp -a "$A" ${next} && nix-store --store ${next} --gc >/dev/null 2>&1`);
    const byDb = await pivot('--lower-db', `${next}/nix/var/nix/db/db.sqlite`, '--dry-run');
    const byList = await pivot('--dead', dead.file, '--dry-run');
    assert.equal(byDb.error, null, JSON.stringify(byDb.error));
    assert.ok(byList.result!.toCopy.length > 0);
    assert.deepEqual(byDb.result?.toCopy, byList.result!.toCopy);
    assert.deepEqual(upperListing(), upperPaths);
  });

  it('refuses --dead lines that are not store paths of this store, naming each line', async () => {
    const file = `${s.f.dir}/bad-dead`;
    fs.writeFileSync(
      file,
      [dead.paths[0], '/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x', '', 'garbage', `${dead.paths[0]}/bin/sh`, '/nix/store/short-x'].join('\n'),
    );
    const envelope = await pivot('--dead', file);
    assert.equal(envelope.exitCode, 1);
    assert.equal(envelope.error?.code, 'PIVOT_BAD_DEAD_LIST');
    assert.match(envelope.error.message, /4 lines are not a store path of this store \(\/nix\/store\): lines 2, 4, 5, 6/);
    assert.deepEqual(
      (envelope.error.evidence['badLines'] as { line: number }[]).map((b) => b.line),
      [2, 4, 5, 6],
    );
    assert.match(envelope.error.hint ?? '', /--print-dead/);
    assert.deepEqual(upperListing(), upperPaths);
  });

  it("waits for Nix's GC lock held by another process, then refuses with a clear message", async () => {
    const lock = `${s.f.mergedRoot}/nix/var/nix/gc.lock`;
    // Its own process group, so that the sleep holding the lock ends with it.
    const holder = spawn('flock', [lock, 'sleep', '600'], { stdio: 'ignore', detached: true });
    try {
      await waitFor(() => spawnSync('flock', ['-n', lock, 'true']).status === 1, 'the holder to take gc.lock');
      const envelope = await pivot('--dead', dead.file, '--lock-timeout', '1');
      assert.equal(envelope.error?.code, 'GC_LOCK_TIMED_OUT');
      assert.match(envelope.error.message, /still held after 1 s/);
      assert.deepEqual(upperListing(), upperPaths);
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
      await waitFor(() => spawnSync('flock', ['-n', lock, 'true']).status === 0, 'gc.lock to be free again');
    }
  });

  it('refuses when the upper layer lacks the space, copying nothing (a 1 MiB tmpfs upper layer)', () => {
    const script = [
      'set -eu',
      `cp -a "$U" "${s.f.dir}/upper-saved"`,
      'mount -t tmpfs -o size=1m tmpfs "$U"',
      `cp -a "${s.f.dir}/upper-saved/." "$U/"`,
      'ls -A "$U" > "$DIR/before"',
      `OVERLAY_WARDEN_SOCKET=${s.socket} "${process.execPath}" "${CLI_MAIN}" pivot --dead ${dead.file} --dry-run --json --store '${s.f.storeUrl}' > "$DIR/dry" || true`,
      `OVERLAY_WARDEN_SOCKET=${s.socket} "${process.execPath}" "${CLI_MAIN}" pivot --dead ${dead.file} --json --store '${s.f.storeUrl}' > "$DIR/real" || true`,
      'ls -A "$U" > "$DIR/after"',
    ].join('\n');
    const quoted = inFreshNamespace(['bash', '-c', script]).map((a) => `'${a.replaceAll("'", "'\\''")}'`);
    s.f.unmounted(`DIR=${s.f.dir} ${quoted.join(' ')}`);
    const dry = JSON.parse(fs.readFileSync(`${s.f.dir}/dry`, 'utf8')) as Envelope;
    assert.equal(dry.exitCode, 1, 'a dry run says it would not fit');
    assert.equal(dry.result?.space.fits, false);
    assert.ok(dry.result.space.availableBytes < 1024 * 1024 + 1);
    const real = JSON.parse(fs.readFileSync(`${s.f.dir}/real`, 'utf8')) as Envelope;
    assert.equal(real.error?.code, 'PIVOT_NO_SPACE');
    assert.match(real.error.message, /nothing was copied/);
    assert.equal(fs.readFileSync(`${s.f.dir}/after`, 'utf8'), fs.readFileSync(`${s.f.dir}/before`, 'utf8'));
  });

  it('reports a needed path the upper DB does not register (with the command that registers it) and a lower copy that does not match the DB; copies neither', async () => {
    // third is in the upper package's closure; the lower DB says it references second, which the upper DB forgets.
    const third = dead.paths.find((path) => path.endsWith('-chain-input-3'))!;
    const second = dead.paths.find((path) => path.endsWith('-chain-input-2'))!;
    assert.ok(third !== undefined && second !== undefined, dead.paths.join(', '));
    forgetInUpperDb(s, second);
    // A registered lower-only derivation whose lower copy no longer matches its narHash.
    const damaged = dead.paths.find((path) => path.endsWith('-chain-input-1.drv'))!;
    fs.appendFileSync(`${s.f.lowerStoreDir}/${damaged.slice(11)}`, ' ');
    fs.mkdirSync(`${s.f.upperLayer}/.overlay-warden-pivot-left-by-a-crash/x`, { recursive: true });
    const envelope = await pivot('--dead', dead.file);
    assert.equal(envelope.error, null, JSON.stringify(envelope.error));
    assert.equal(envelope.exitCode, 1, 'something needed was not secured');
    const result = envelope.result!;
    const problem = result.problems.find((p) => p.path === second);
    assert.equal(problem?.reason, 'unregistered');
    assert.match(problem.message, /references it \(by the lower DB\), but the upper DB does not register it/);
    assert.match(problem.command ?? '', /local-overlay-store.* path-info --store '.*upper-layer=.*' \/nix\/store\/.*-chain-input-2$/);
    assert.ok(!result.copied.includes(second));
    const mismatch = result.problems.find((p) => p.path === damaged);
    assert.equal(mismatch?.reason, 'hash-mismatch', JSON.stringify(result.problems));
    assert.match(mismatch.message, /the upper DB says sha256:/);
    assert.ok(!fs.existsSync(`${s.f.upperLayer}/${damaged.slice(11)}`), 'the damaged copy is not kept');
    assert.ok(result.copied.includes(third));
    assert.ok(!fs.existsSync(`${s.f.upperLayer}/${second.slice(11)}`), 'second is not copied');
    assert.ok(fs.existsSync(`${s.f.upperLayer}/${third.slice(11)}`), 'third is copied');
    assert.equal(result.leftoversRemoved, 1);
    assert.deepEqual(
      lines(fs.readdirSync(s.f.upperLayer).join('\n')).filter((name) => name.startsWith('.overlay-warden')),
      [],
    );
  });
});
