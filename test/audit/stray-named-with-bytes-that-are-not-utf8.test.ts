/** An upper-layer entry whose name is not UTF-8 (or holds a newline) is reported under its escaped name, which leads back to it. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { unescapeName } from '../../agent/errors/index.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { createNixOverlayFixture, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('a stray named with bytes that are not UTF-8', function () {
  this.timeout(120_000);
  let f: NixOverlayFixture;
  const bytesName = Buffer.from([0xff, 0x0a]);

  before(function () {
    requireNixOverlayFixture(this);
    f = createNixOverlayFixture();
    f.unmounted('echo base > "$EXPR.base" && nix-store --store "$A" --add "$EXPR.base" >/dev/null');
    fs.writeFileSync(Buffer.concat([Buffer.from(`${f.upperLayer}/`), bytesName]), 'leftover\n');
    fs.mkdirSync(`${f.upperLayer}/back\\slash`);
  });
  after(() => f?.remove());

  it('audit --json names it escaped, and the escaped path unescapes to the file', async () => {
    const run = await runCliCaptured(['audit', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 0, run.stdout);
    const strays = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'store.stray');
    assert.deepEqual(strays.map((x) => [x.evidence['path'], x.evidence['kind']]).sort(), [
      ['/nix/store/\\xff\\x0a', 'file'],
      ['/nix/store/back\\\\slash', 'directory'],
    ]);
    const odd = strays.find((x) => x.evidence['kind'] === 'file')!;
    assert.equal(odd.evidence['upperPath'], `${f.upperLayer}/\\xff\\x0a`);
    assert.equal(fs.readFileSync(unescapeName(odd.evidence['upperPath'] as string), 'utf8'), 'leftover\n');
    assert.ok(fs.existsSync(unescapeName(strays.find((x) => x.evidence['kind'] === 'directory')!.evidence['upperPath'] as string)));
  });

  it('the report prints each finding on its own line, with the escapes', async () => {
    const run = await runCliCaptured(['audit', '--store', f.storeUrl]);
    assert.equal(run.code, 0, run.stdout);
    const line = run.stdout.split('\n').find((l) => l.includes('store.stray') && l.includes('\\xff'));
    assert.ok(line?.includes(`${f.upperLayer}/\\xff\\x0a (a file) is in the upper layer but is not a store path`), run.stdout);
    assert.ok(!run.stdout.includes('\uFFFD'), 'no byte was replaced by U+FFFD');
  });
});
