/**
 * The lower store garbage-collected under the overlay: upper builds used lower paths, then `nix-store --store LOWER
 * --gc` deletes them. The audit must list the broken closures with the upper roots they break; the expectations are
 * derived from real Nix's view of the upper DB (referrers, referrer closures) and from what is left on disk.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { buildLowerThenUpper, createNixOverlayFixture, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('lower store garbage-collected under the overlay: broken closures with the upper roots they break', function () {
  this.timeout(300_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;
  let findings: Finding[];
  let gone: string[];

  const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

  before(async function () {
    requireNixOverlayFixture(this);
    f = createNixOverlayFixture();
    // The overlay store uses the lower build (metadata copied up), then builds a variant whose inputs partly come
    // from the lower store.
    p = buildLowerThenUpper(f);
    // Nothing roots the lower store's paths: its GC deletes them all.
    f.unmounted('nix-store --store "$A" --gc >/dev/null 2>&1');
    const registered = lines(f.mounted(`nix-store --store "$B" -q --requisites ${p['upperDrv']} ${p['upperOut']} ${p['drv']} ${p['out']}`));
    gone = registered.filter((path) => !fs.existsSync(`${f.lowerStoreDir}/${path.slice(11)}`) && !fs.existsSync(`${f.upperLayer}/${path.slice(11)}`));
    assert.ok(gone.length > 0, 'the GC deleted lower paths the upper DB still registers');
    const run = await runCliCaptured(['audit', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 1, run.stdout);
    findings = (JSON.parse(run.stdout) as { findings: Finding[] }).findings;
  });
  after(() => f?.remove());

  it('every registered path the GC deleted is dangling', () => {
    const dangling = findings.filter((x) => x.id === 'store.dangling').map((x) => x.evidence['path'] as string);
    for (const path of gone) assert.ok(dangling.includes(path), `${path} is reported dangling`);
    for (const path of dangling)
      assert.ok(!fs.existsSync(`${f.lowerStoreDir}/${path.slice(11)}`) && !fs.existsSync(`${f.upperLayer}/${path.slice(11)}`), `${path} really is gone`);
  });

  it('each gone path that others reference is a broken closure listing exactly its referrers and roots, as Nix sees them', () => {
    const broken = findings.filter((x) => x.id === 'store.broken-closure');
    assert.ok(broken.length > 0);
    for (const finding of broken) {
      const missing = finding.evidence['missing'] as string;
      const referrers = lines(f.mounted(`nix-store --store "$B" -q --referrers ${missing}`)).filter((r) => r !== missing);
      assert.deepEqual([...(finding.evidence['referrers'] as string[])].sort(), referrers.sort(), `referrers of ${missing}`);
      const closure = lines(f.mounted(`nix-store --store "$B" -q --referrers-closure ${missing}`)).filter((r) => r !== missing);
      const roots = closure.filter((path) => lines(f.mounted(`nix-store --store "$B" -q --referrers ${path}`)).every((r) => r === path));
      assert.deepEqual([...(finding.evidence['roots'] as string[])].sort(), roots.sort(), `roots broken by ${missing}`);
      for (const chain of finding.evidence['chains'] as string[][]) {
        assert.equal(chain.at(-1), missing);
        assert.ok(roots.includes(chain[0]!));
      }
    }
  });

  it('the upper build is among the roots it breaks', () => {
    const roots = new Set(findings.filter((x) => x.id === 'store.broken-closure').flatMap((x) => x.evidence['roots'] as string[]));
    assert.ok(roots.has(p['upperDrv']!), `${p['upperDrv']} in ${[...roots].join(', ')}`);
  });
});
