/**
 * Pivot before a lower-store GC: an upper package whose closure reaches into lower paths; the lower store's GC
 * (`nix-store --gc`, its dead list given to pivot first) leaves that closure complete: the audit is clean,
 * `nix-store --verify --check-contents` through the merged store is clean, and the package's files read through the
 * merged dir hash as the DB says. The same GC without pivot breaks it (shown on a second, identical store).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Finding } from '../../agent/findings/index.ts';
import { CLI_MAIN, runCliCaptured } from '../support/cli-run.ts';
import { parseEnvelope } from '../support/json-output.ts';
import { sha256Base16 } from '../support/nix-kit.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireRoot } from '../support/requirements.ts';
import { buildPivotScenario, lines, printDead, type PivotScenario } from './pivot-support.ts';

interface Envelope<R> {
  readonly exitCode: number;
  readonly findings: Finding[];
  readonly result: R;
  readonly error: { code: string; message: string } | null;
}
interface Report {
  toCopy: { path: string; narSize: number }[];
  copied: string[];
  problems: { path: string; reason: string }[];
  remount: { status: string; fresh: boolean } | null;
  mounted: boolean;
  notServed: string[];
  space: { fits: boolean };
}

/** Every file and dir of a tree with its mode, size and mtime: what must not change. */
function treeState(root: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    const st = fs.lstatSync(path);
    out.push(`${path} ${st.mode} ${st.size} ${st.mtimeMs}`);
    if (st.isDirectory()) for (const name of fs.readdirSync(path).sort()) walk(`${path}/${name}`);
  };
  walk(root);
  return out;
}

async function audit(s: PivotScenario): Promise<Envelope<unknown>> {
  const run = await runCliCaptured(['audit', '--json', '--store', s.f.storeUrl], { OVERLAY_WARDEN_SOCKET: s.socket });
  return JSON.parse(run.stdout) as Envelope<unknown>;
}

/** The closure of the upper package, as the overlay store's DB has it. */
function upperClosure(s: PivotScenario): string[] {
  return lines(s.f.mounted(`nix-store --store "$B" -q --requisites ${s.p['upperOut']}`));
}

describe('pivot before a lower GC keeps the upper closures complete; the same GC without pivot breaks them', function () {
  this.timeout(600_000);
  let pivoted: PivotScenario;
  let unpivoted: PivotScenario;
  let dead: { file: string; paths: string[] };
  let closure: string[];
  let dryRun: Envelope<Report>;
  let real: Envelope<Report>;
  let untouched: { upper: string[]; state: string[]; db: Buffer };

  before(async function () {
    requireRoot(this);
    requireNixOverlayFixture(this);
    pivoted = buildPivotScenario();
    unpivoted = buildPivotScenario();
    closure = upperClosure(pivoted);
    dead = printDead(pivoted);
    const stateDir = `${pivoted.f.mergedRoot}/nix/var/nix`;
    const before = { upper: treeState(pivoted.f.upperLayer), state: fs.readdirSync(stateDir).sort(), db: fs.readFileSync(pivoted.upperDb) };
    const run = await runCliCaptured(['pivot', '--dead', dead.file, '--dry-run', '--json', '--store', pivoted.f.storeUrl], {
      OVERLAY_WARDEN_SOCKET: pivoted.socket,
    });
    dryRun = parseEnvelope(run.stdout, 'pivot') as unknown as Envelope<Report>;
    untouched = { upper: treeState(pivoted.f.upperLayer), state: fs.readdirSync(stateDir).sort(), db: fs.readFileSync(pivoted.upperDb) };
    assert.deepEqual(untouched.upper, before.upper);
    assert.deepEqual(untouched.state, before.state);
    // The real pivot runs inside the overlay's mount namespace, so its remount has a mount to remount.
    const out = pivoted.f.mounted(
      `OVERLAY_WARDEN_SOCKET=${pivoted.socket} ${process.execPath} ${CLI_MAIN} pivot --dead ${dead.file} --json --store '${pivoted.f.storeUrl}' || true`,
    );
    real = parseEnvelope(out, 'pivot') as unknown as Envelope<Report>;
    for (const s of [pivoted, unpivoted]) s.f.unmounted('nix-store --store "$A" --gc >/dev/null 2>&1');
  });
  after(() => {
    pivoted?.f.remove();
    unpivoted?.f.remove();
  });

  it('the upper package needs lower paths the GC deletes', () => {
    const fromLower = closure.filter((path) => dead.paths.includes(path));
    assert.ok(fromLower.length >= 2, `the upper closure reaches into dead lower paths: ${fromLower.join(', ')}`);
  });

  it('--dry-run lists what it would copy with sizes, and changes nothing', () => {
    assert.equal(dryRun.error, null);
    const listed = dryRun.result.toCopy.map((x) => x.path);
    for (const path of closure.filter((x) => dead.paths.includes(x))) assert.ok(listed.includes(path), `${path} would be copied`);
    assert.ok(dryRun.result.toCopy.every((x) => x.narSize > 0));
    assert.ok(dryRun.result.space.fits);
    assert.deepEqual(dryRun.result.copied, []);
    assert.ok(fs.readFileSync(pivoted.upperDb).equals(untouched.db), 'the upper DB is byte for byte the same');
  });

  it('pivot copies what the dry run listed, remounts once and sees every copy served', () => {
    assert.equal(real.error, null, JSON.stringify(real.error));
    assert.equal(real.exitCode, 0, JSON.stringify(real.result.problems));
    assert.deepEqual([...real.result.copied].sort(), dryRun.result.toCopy.map((x) => x.path).sort());
    assert.equal(real.result.mounted, true);
    assert.equal(real.result.remount?.status, 'remounted');
    assert.deepEqual(real.result.notServed, []);
    for (const path of real.result.copied) assert.ok(fs.existsSync(`${pivoted.f.upperLayer}/${path.slice(11)}`), `${path} is in the upper layer`);
    assert.deepEqual(
      fs.readdirSync(pivoted.f.upperLayer).filter((name) => name.startsWith('.overlay-warden')),
      [],
      'no temporary copy is left',
    );
  });

  it('after the GC the audit is clean', async () => {
    const envelope = await audit(pivoted);
    const errors = envelope.findings.filter((x) => x.severity === 'error');
    assert.deepEqual(
      errors.map((x) => `${x.id} ${x.message}`),
      [],
    );
    assert.ok(
      dead.paths.some((path) => !fs.existsSync(`${pivoted.f.lowerStoreDir}/${path.slice(11)}`)),
      'the GC did delete lower paths',
    );
  });

  it('after the GC nix-store --verify --check-contents through the merged store is clean, and the files hash as the DB says', () => {
    const out = pivoted.f.mounted(`nix-store --store "$B" --verify --check-contents 2>&1 || echo "exit=$?"`);
    assert.doesNotMatch(out, /exit=/, out);
    assert.doesNotMatch(out, /disappeared|modified|corrupt/i, out);
    const hashes = pivoted.f.mounted(
      closure
        .map((path) => `echo "${path} $(nix-store --store "$B" -q --hash ${path}) $(nix-store --dump "$B${path}" | sha256sum | cut -d' ' -f1)"`)
        .join('\n'),
    );
    for (const line of lines(hashes)) {
      const [path, dbHash, actual] = line.split(' ');
      assert.equal(`sha256:${actual!}`, sha256Base16(dbHash!), `${path} through the merged dir`);
    }
    const content = pivoted.f.mounted(`cat "$B${pivoted.p['upperOut']}"`);
    assert.match(content, /first-2 .* second third/);
  });

  it('without pivot the same GC breaks the upper closure', async () => {
    const envelope = await audit(unpivoted);
    const broken = envelope.findings.filter((x) => x.id === 'store.broken-closure' || x.id === 'store.dangling').map((x) => x.evidence['path'] as string);
    const lost = upperClosure(unpivoted).filter((path) => broken.includes(path));
    assert.ok(lost.length > 0, `the upper closure has gone paths: ${broken.join(', ')}`);
    const out = unpivoted.f.mounted(`nix-store --store "$B" --verify --check-contents 2>&1 || echo "exit=$?"`);
    assert.match(out, /disappeared/, out);
    assert.throws(() =>
      unpivoted.f.mounted(
        `cat "$B${unpivoted.p['upperOut']}" >/dev/null; for p in $(nix-store --store "$B" -q --requisites ${unpivoted.p['upperOut']}); do test -e "$B$p"; done`,
      ),
    );
  });
});
