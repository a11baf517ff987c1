/** Nix's "duplicate" scenario: a path added through the overlay store, then added to the lower store too. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Finding } from '../../agent/findings/index.ts';
import { parseNarHash } from '../../agent/store/nar-hash-string.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';

describe('a path in both layers (added to the upper store, then to the lower one) is a duplicate', function () {
  this.timeout(120_000);
  let f: NixOverlayFixture;
  let dup: string;

  before(function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'du');
    f = createNixOverlayFixture();
    const made = parseAssignments(
      f.mounted(`
        mkdir -p "$EXPR.tree/share" && head -c 200000 /dev/urandom > "$EXPR.tree/share/blob" && echo hello > "$EXPR.tree/readme"
        echo upper=$(nix-store --store "$B" --add "$EXPR.tree")
        echo lower=$(nix-store --store "$A" --add "$EXPR.tree")
      `),
    );
    assert.equal(made['upper'], made['lower']);
    dup = made['upper']!;
    assert.ok(fs.existsSync(`${f.upperLayer}/${dup.slice('/nix/store/'.length)}`), 'the upper layer holds a copy');
  });
  after(() => f?.remove());

  it('audit reports it with the bytes removing the upper copy frees (as du counts them)', async () => {
    const run = await runCliCaptured(['audit', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 0, run.stdout);
    const findings = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'store.duplicate');
    assert.equal(findings.length, 1);
    const [finding] = findings;
    assert.equal(finding!.evidence['path'], dup);
    assert.equal(finding!.severity, 'info');
    assert.equal(finding!.evidence['registeredInLowerDb'], true);
    assert.equal(finding!.evidence['registeredInUpperDb'], true);
    const du = Number(f.unmounted(`du -s -B1 "$U/${dup.slice('/nix/store/'.length)}" | cut -f1`).trim());
    assert.equal(finding!.evidence['upperBytes'], du);
    assert.ok(du > 200_000);
    assert.equal(finding!.evidence['sameNarHash'], undefined, 'not hashed without --hash-duplicates');
  });

  it('audit --hash-duplicates says both copies have the same NAR hash, the one Nix records', async () => {
    const run = await runCliCaptured(['audit', '--json', '--hash-duplicates', '--threads', '2', '--store', f.storeUrl]);
    assert.equal(run.code, 0, run.stdout);
    const [finding] = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'store.duplicate');
    assert.equal(finding?.evidence['sameNarHash'], true);
    const nixHash = f.unmounted(`nix-store --store "$A" -q --hash ${dup}`).trim();
    const hex = f.unmounted(`nix-hash --type sha256 "$A${dup}"`).trim();
    assert.equal(`sha256:${parseNarHash(nixHash).toString('hex')}`, `sha256:${hex}`);
    assert.equal(finding?.evidence['upperNarHash'], `sha256:${hex}`);
    assert.equal(finding?.evidence['lowerNarHash'], `sha256:${hex}`);
  });

  it('a copy that differs from the lower one is a warning once hashed', async () => {
    const name = dup.slice('/nix/store/'.length);
    f.unmounted(`chmod u+w "$U/${name}" "$U/${name}/readme" && echo changed > "$U/${name}/readme"`);
    const run = await runCliCaptured(['audit', '--json', '--hash-duplicates', '--store', f.storeUrl]);
    const [finding] = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'store.duplicate');
    assert.equal(finding?.severity, 'warning');
    assert.equal(finding?.evidence['sameNarHash'], false);
  });
});
