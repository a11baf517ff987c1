/**
 * An opaque directory over a lower-valid path, in an upper layer whose own path holds a newline or a backslash
 * (getfattr prints such paths escaped): the audit still reads its xattr, and names it escaped, reversibly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { escapeName, unescapeName } from '../../agent/errors/index.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { percentEncode } from '../../agent/store/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';

describe('an opaque dir under an upper layer path with a newline or a backslash is masked', function () {
  this.timeout(120_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;
  const uppers = ['up\nper', 'back\\slash'];

  before(function () {
    requireNixOverlayFixture(this);
    for (const command of ['setfattr', 'getfattr']) requireCommand(this, command);
    f = createNixOverlayFixture();
    p = parseAssignments(
      f.unmounted(`
        mkdir -p "$EXPR.dir" && echo one > "$EXPR.dir/one" && echo opaque=$(nix-store --store "$A" --add "$EXPR.dir")
        echo fine > "$EXPR.fine" && echo fine=$(nix-store --store "$A" --add "$EXPR.fine")
      `),
    );
    for (const upper of uppers) {
      const opaque = path.join(f.dir, upper, path.posix.basename(p['opaque']!));
      fs.mkdirSync(opaque, { recursive: true });
      fs.writeFileSync(path.join(opaque, 'two'), 'other\n');
      execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', opaque]);
    }
  });
  after(() => f?.remove());

  for (const upper of uppers) {
    it(`audit of the upper layer ${JSON.stringify(upper)}: store.masked, a warning naming the opaque dir escaped`, async () => {
      const upperLayer = path.join(f.dir, upper);
      const url = f.storeUrl.replace(/upper-layer=[^&]*/, `upper-layer=${percentEncode(upperLayer)}`);
      const run = await runCliCaptured(['audit', '--json', '--store', url]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const masked = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((x) => x.id === 'store.masked');
      assert.deepEqual(
        masked.map((x) => [x.severity, x.evidence['path'], x.evidence['marker']]),
        [['warning', p['opaque'], 'opaque']],
      );
      const shown = masked[0]!.evidence['upperPath'] as string;
      assert.equal(shown, escapeName(path.join(upperLayer, path.posix.basename(p['opaque']!))));
      assert.doesNotMatch(shown, /\n/);
      assert.ok(fs.statSync(unescapeName(shown)).isDirectory());
    });
  }
});
