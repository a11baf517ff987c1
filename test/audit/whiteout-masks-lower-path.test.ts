/** Entries in the upper layer that hide valid lower paths from the merged view: a whiteout, and an opaque directory. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runAudit } from '../../agent/audit/run-audit.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { resolveStoreLayout } from '../../agent/store/resolve-store-layout.ts';
import { parseStoreUrl } from '../../agent/store/store-url.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';

describe('a whiteout or opaque dir over a valid lower path is masked', function () {
  this.timeout(120_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;

  before(function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'getfattr');
    f = createNixOverlayFixture();
    p = parseAssignments(
      f.unmounted(`
        echo gone > "$EXPR.hidden" && echo hidden=$(nix-store --store "$A" --add "$EXPR.hidden")
        mkdir -p "$EXPR.dir" && echo one > "$EXPR.dir/one" && echo opaque=$(nix-store --store "$A" --add "$EXPR.dir")
        echo fine > "$EXPR.fine" && echo fine=$(nix-store --store "$A" --add "$EXPR.fine")
      `),
    );
    // Deleting through the merged view leaves a whiteout; recreating a directory there makes it opaque.
    // The overlay store had used the hidden path (its metadata was copied up), as a store in use would have.
    f.mounted(`${COPY_UP}
      copy_up ${p['hidden']}
      rm -rf "$B${p['hidden']}"
      rm -rf "$B${p['opaque']}" && mkdir "$B${p['opaque']}" && echo other > "$B${p['opaque']}/two"
      test ! -e "$B${p['hidden']}"
    `);
    const st = spawnSync('stat', ['-c', '%F %t:%T', `${f.upperLayer}/${p['hidden']!.slice('/nix/store/'.length)}`], { encoding: 'utf8' });
    assert.equal(st.stdout.trim(), 'character special file 0:0', 'the kernel made a whiteout');
  });
  after(() => f?.remove());

  it('audit: the whiteout is an error naming the hidden path, the opaque dir a warning; untouched paths are fine', async () => {
    const run = await runCliCaptured(['audit', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 1, run.stdout);
    const masked = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'store.masked');
    const whiteout = masked.find((x) => x.evidence['path'] === p['hidden']);
    assert.equal(whiteout?.severity, 'error');
    assert.equal(whiteout?.evidence['marker'], 'whiteout');
    assert.equal(whiteout?.evidence['registeredInUpperDb'], true);
    const opaque = masked.find((x) => x.evidence['path'] === p['opaque']);
    assert.equal(opaque?.severity, 'warning');
    assert.equal(opaque?.evidence['marker'], 'opaque');
    assert.equal(masked.length, 2);
  });

  it('verify: the path the whiteout hides is masked; the opaque dir serves other content than the lower DB registers, and the lower copy is intact', async () => {
    const run = await runCliCaptured(['verify', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 1);
    const { findings } = JSON.parse(run.stdout) as { findings: Finding[] };
    const served = f.mounted(`nix-hash --type sha256 "$B${p['opaque']}"`).trim();
    assert.deepEqual(
      findings.map((x) => [x.id, x.evidence['path'], x.evidence['servedFrom'], x.evidence['lowerCopy']]),
      [
        ['store.corrupt', p['opaque'], 'upper', 'matches'],
        ['store.masked', p['hidden'], undefined, undefined],
      ],
    );
    assert.equal(findings[0]?.evidence['actualNarHash'], `sha256:${served}`, 'the hash of what the merged view serves');
  });

  it('without getfattr, opaque dirs are not checked and an info finding says so', async () => {
    const layout = resolveStoreLayout(parseStoreUrl(f.storeUrl));
    const report = await runAudit({ layout, signal: new AbortController().signal, getfattr: '/nonexistent/getfattr' });
    const masked = report.findings.filter((x) => x.id === 'store.masked');
    assert.ok(
      masked.some((x) => x.severity === 'info' && x.evidence['checked'] === false),
      JSON.stringify(masked),
    );
    assert.ok(
      masked.some((x) => x.evidence['path'] === p['hidden'] && x.severity === 'error'),
      'the device whiteout needs no xattrs',
    );
  });
});
