/** Leftovers in the upper layer that no DB registers are strays; Nix's own files there are not. */
import assert from 'node:assert/strict';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('a leftover directory in the upper layer is a stray', function () {
  this.timeout(120_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;
  const leftover = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-failed-build';

  before(function () {
    requireNixOverlayFixture(this);
    f = createNixOverlayFixture();
    p = parseAssignments(
      f.mounted(`
        echo base > "$EXPR.base" && nix-store --store "$A" --add "$EXPR.base" >/dev/null
        echo kept > "$EXPR.kept" && echo kept=$(nix-store --store "$B" --add "$EXPR.kept")
        mkdir -p "$B${leftover}/bin" && echo x > "$B${leftover}/bin/tool"
        mkdir -p "$B/nix/store/.links" && touch "$B/nix/store/trash-not-nix" "$B${leftover}.lock"
      `),
    );
  });
  after(() => f?.remove());

  it('audit warns about the leftover and the odd file, not about registered paths, .links or lock files', async () => {
    const run = await runCliCaptured(['audit', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 0, run.stdout);
    const strays = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'store.stray');
    assert.deepEqual(strays.map((x) => x.evidence['path']).sort(), [leftover, '/nix/store/trash-not-nix'].sort());
    const dir = strays.find((x) => x.evidence['path'] === leftover);
    assert.equal(dir?.severity, 'warning');
    assert.equal(dir?.evidence['kind'], 'directory');
    assert.equal(dir?.evidence['upperPath'], `${f.upperLayer}/${leftover.slice('/nix/store/'.length)}`);
    assert.ok(!strays.some((x) => x.evidence['path'] === p['kept']));
  });
});
