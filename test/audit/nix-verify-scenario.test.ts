/**
 * Nix's local-overlay "verify" scenario on real Nix 2.8 stores and a real overlay: a lower derivation input that
 * upper paths reference is deleted, and a lower file whose metadata the upper DB copied is truncated, as is a
 * lower-only file. Expected hashes come from Nix (`nix-store -q --hash`), actual ones from `nix-hash`.
 */
import assert from 'node:assert/strict';
import type { Finding } from '../../agent/findings/index.ts';
import { parseNarHash } from '../../agent/store/nar-hash-string.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

interface Report {
  readonly findings: readonly Finding[];
  readonly partial: boolean;
}

/** `sha256:<hex>` of any Nix hash form, so hashes from Nix and from overlay-warden compare. */
function base16(hash: string): string {
  return `sha256:${parseNarHash(hash).toString('hex')}`;
}

describe('Nix verify scenario on a real overlay: deleted lower input, truncated lower files', function () {
  this.timeout(300_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;
  /** What Nix records for the truncated path, and what the truncated content hashes to. */
  let dummyExpected: string;
  let dummyActual: string;
  let lowerOnlyExpected: string;
  let lowerOnlyActual: string;

  const run = async (...argv: string[]): Promise<{ code: number; report: Report; stderr: string }> => {
    const result = await runCliCaptured([...argv, '--json', '--store', f.storeUrl]);
    return { code: result.code, report: reportOf<Report>(result.stdout), stderr: result.stderr };
  };
  const about = (report: Report, id: string, path: string): Finding[] => report.findings.filter((x) => x.id === id && x.evidence['path'] === path);

  before(function () {
    requireNixOverlayFixture(this);
    f = createNixOverlayFixture();
    p = parseAssignments(
      f.unmounted(`
        echo "dummy content" > "$EXPR.dummy"
        echo dummy=$(nix-store --store "$A" --add "$EXPR.dummy")
        drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
        echo drv=$drv
        echo out=$(nix-store --store "$A" --realise "$drv" 2>/dev/null)
        echo input1drv=$(nix-store --store "$A" -qR "$drv" | grep -- '-chain-input-1.drv$')
      `),
    );
    // Realising the derivation through the overlay store copies the metadata of its closure up; so does adding a
    // path the lower store has. Then a path only the lower store has.
    Object.assign(
      p,
      parseAssignments(
        f.mounted(`${COPY_UP}
          copy_up ${p['drv']} ${p['out']} ${p['dummy']}
          nix-store --store "$B" --verify --check-contents
          echo "Only in lower store" > "$EXPR.lower-only"
          echo lowerOnly=$(nix-store --store "$A" --add "$EXPR.lower-only")
        `),
      ),
    );
    for (const key of ['dummy', 'drv', 'out', 'input1drv', 'lowerOnly']) assert.match(p[key] ?? '', /^\/nix\/store\/[0-9a-z]{32}-/, `fixture path ${key}`);
    dummyExpected = base16(f.unmounted(`nix-store --store "$A" -q --hash ${p['dummy']}`).trim());
    lowerOnlyExpected = base16(f.unmounted(`nix-store --store "$A" -q --hash ${p['lowerOnly']}`).trim());
    // Corrupt the lower store under the overlay, as the scenario does.
    const lower = (storePath: string): string => `"$A${storePath}"`;
    f.unmounted(`
      rm -v ${lower(p['input1drv']!)}
      truncate -s 0 ${lower(p['dummy']!)}
      truncate -s 0 ${lower(p['lowerOnly']!)}
    `);
    dummyActual = base16(`sha256:${f.unmounted(`nix-hash --type sha256 ${lower(p['dummy']!)}`).trim()}`);
    lowerOnlyActual = base16(`sha256:${f.unmounted(`nix-hash --type sha256 ${lower(p['lowerOnly']!)}`).trim()}`);
    assert.notEqual(dummyActual, dummyExpected);
  });
  after(() => f?.remove());

  it('audit: the deleted input is dangling, and a broken closure naming its referrers and the roots it breaks', async () => {
    const { code, report } = await run('audit');
    assert.equal(code, 1);
    assert.equal(report.partial, false);
    const missing = p['input1drv']!;
    assert.equal(about(report, 'store.dangling', missing).length, 1);
    const [broken] = about(report, 'store.broken-closure', missing);
    assert.ok(broken, JSON.stringify(report.findings, null, 1));
    assert.equal(broken.severity, 'error');
    // The chain derivation is the one referrer, and (nothing referencing it) the root it breaks.
    const referrers = f.mounted(`nix-store --store "$B" -q --referrers ${missing}`).trim().split('\n');
    assert.deepEqual(broken.evidence['referrers'], referrers);
    assert.deepEqual(broken.evidence['referrers'], [p['drv']]);
    assert.deepEqual(broken.evidence['roots'], [p['drv']]);
    assert.deepEqual(broken.evidence['chains'], [[p['drv'], missing]]);
    // The truncated files are still there: no structural finding about them.
    assert.equal(report.findings.filter((x) => x.evidence['path'] === p['dummy'] || x.evidence['path'] === p['lowerOnly']).length, 0);
  });

  it('verify (upper DB): the truncated copied-up path is corrupt with both hashes; the lower-only one is not mentioned', async () => {
    const { code, report } = await run('verify');
    assert.equal(code, 1);
    const [corrupt] = about(report, 'store.corrupt', p['dummy']!);
    assert.ok(corrupt, JSON.stringify(report.findings, null, 1));
    assert.equal(corrupt.evidence['expectedNarHash'], dummyExpected);
    assert.equal(corrupt.evidence['actualNarHash'], dummyActual);
    assert.equal(corrupt.evidence['db'], 'upper');
    assert.equal(corrupt.evidence['layer'], 'lower');
    const [gone] = about(report, 'store.corrupt', p['input1drv']!);
    assert.equal(gone?.evidence['problem'], 'vanished');
    assert.equal(JSON.stringify(report).includes(p['lowerOnly']!), false, 'a lower-only path is not checked by default');
  });

  it('verify agrees with Nix 2.8 on what was modified and what disappeared', async () => {
    const { report } = await run('verify');
    const nix = f.mounted(`nix-store --store "$B" --verify --check-contents 2>&1 || true`);
    assert.match(nix, new RegExp(`path '${p['input1drv']}' disappeared, but it still has valid referrers`));
    const modified = new RegExp(`path '${p['dummy']}' was modified! expected hash '([^']+)', got '([^']+)'`).exec(nix);
    assert.ok(modified, nix);
    const [corrupt] = about(report, 'store.corrupt', p['dummy']!);
    assert.equal(corrupt?.evidence['expectedNarHash'], base16(modified[1]!));
    assert.equal(corrupt?.evidence['actualNarHash'], base16(modified[2]!));
    const nixModified = [...nix.matchAll(/path '([^']+)' was modified/g)].map((m) => m[1]).sort();
    const ours = report.findings
      .filter((x) => x.id === 'store.corrupt' && x.evidence['problem'] !== 'vanished')
      .map((x) => x.evidence['path'])
      .sort();
    assert.deepEqual(ours, nixModified);
  });

  it('verify --lower reports the corrupt lower-only path (and the lower copy of the copied-up one)', async () => {
    const { code, report } = await run('verify', '--lower');
    assert.equal(code, 1);
    const [lowerOnly] = about(report, 'store.corrupt', p['lowerOnly']!);
    assert.equal(lowerOnly?.evidence['expectedNarHash'], lowerOnlyExpected);
    assert.equal(lowerOnly?.evidence['actualNarHash'], lowerOnlyActual);
    assert.equal(lowerOnly?.evidence['db'], 'lower');
    assert.deepEqual(
      about(report, 'store.corrupt', p['dummy']!).map((x) => x.evidence['db']),
      ['lower'],
    );
    assert.equal(about(report, 'store.corrupt', p['input1drv']!)[0]?.evidence['problem'], 'vanished');
  });

  it('verify --all hashes the shared lower copy once and checks it against both DBs', async () => {
    const { code, report } = await run('verify', '--all');
    assert.equal(code, 1);
    assert.deepEqual(
      about(report, 'store.corrupt', p['dummy']!)
        .map((x) => x.evidence['db'])
        .sort(),
      ['lower', 'upper'],
    );
    assert.equal(about(report, 'store.corrupt', p['lowerOnly']!).length, 1);
  });

  it('verify PATH checks just that path; an unregistered path is a usage error', async () => {
    const { code, report } = await run('verify', p['lowerOnly']!);
    assert.equal(code, 1);
    assert.deepEqual(
      report.findings.map((x) => x.evidence['path']),
      [p['lowerOnly']],
    );
    const healthy = await run('verify', p['out']!);
    assert.equal(healthy.code, 0, JSON.stringify(healthy.report));
    const unknown = await runCliCaptured(['verify', '--json', '--store', f.storeUrl, '/nix/store/00000000000000000000000000000000-nothing']);
    assert.equal(unknown.code, 2);
    const { error } = JSON.parse(unknown.stdout) as { error: { code: string; evidence: Record<string, unknown> } };
    assert.deepEqual([error.code, error.evidence['auditError']], ['USAGE_BAD_ARGUMENT', 'AUDIT_UNKNOWN_PATH']);
  });
});
