/** The xattr form of a whiteout (an empty file marked `trusted.overlay.whiteout`, Linux ≥ 6.7) in the upper layer hides a valid lower path. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { kindAt, listLayer } from '../../agent/audit/layer-listing.ts';
import { applyOverlayMarks } from '../../agent/audit/layer-marks.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { writeStorePathKey, STORE_PATH_KEY_BYTES } from '../../agent/store/store-path-key.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';

describe('an xattr whiteout over a valid lower path is masked', function () {
  this.timeout(120_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;
  let merged: Record<string, string>;
  const baseName = (storePath: string): string => path.posix.basename(storePath);

  before(function () {
    requireNixOverlayFixture(this);
    for (const command of ['setfattr', 'getfattr']) requireCommand(this, command);
    f = createNixOverlayFixture();
    p = parseAssignments(
      f.unmounted(`
        echo gone > "$EXPR.hidden" && echo hidden=$(nix-store --store "$A" --add "$EXPR.hidden")
        echo kept > "$EXPR.kept" && echo kept=$(nix-store --store "$A" --add "$EXPR.kept")
      `),
    );
    const marker = path.join(f.upperLayer, baseName(p['hidden']!));
    fs.writeFileSync(marker, '');
    execFileSync('setfattr', ['-n', 'trusted.overlay.whiteout', '-v', '', marker]);
    // The overlay store had used the hidden path (its metadata was copied up), as a store in use would have.
    merged = parseAssignments(
      f.mounted(`${COPY_UP}
        copy_up ${p['hidden']}
        for name in hidden=${baseName(p['hidden']!)} kept=${baseName(p['kept']!)}; do
          if [ -e "$B/nix/store/\${name#*=}" ]; then echo "\${name%%=*}=present"; else echo "\${name%%=*}=absent"; fi
        done
      `),
    );
  });
  after(() => f?.remove());

  it('the kernel hides the lower path behind it in the merged view (and shows the other)', () => {
    assert.deepEqual(merged, { hidden: 'absent', kept: 'present' });
  });

  it('the layer listing reads it as a file, and as an xattr whiteout once its xattrs are applied', async () => {
    const listing = await listLayer(f.upperLayer, { names: true });
    const key = Buffer.alloc(STORE_PATH_KEY_BYTES);
    assert.ok(writeStorePathKey(baseName(p['hidden']!), key, 0));
    const id = listing.keys.find(key);
    assert.equal(kindAt(listing, id), 'file');
    const probe = await applyOverlayMarks(listing, [id]);
    assert.equal(probe.available, true);
    assert.equal(kindAt(listing, id), 'xattr-whiteout');
  });

  it('audit: store.masked, an error naming the hidden path and the xattr form; neither a duplicate nor a stray', async () => {
    const run = await runCliCaptured(['audit', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 1, run.stdout);
    const findings = (JSON.parse(run.stdout) as { findings: Finding[] }).findings;
    const about = findings.filter((x) => x.evidence['path'] === p['hidden']);
    assert.deepEqual(
      about.map((x) => [x.id, x.severity, x.evidence['marker'], x.evidence['form']]),
      [['store.masked', 'error', 'whiteout', 'overlay.whiteout xattr']],
    );
    assert.equal(about[0]?.evidence['registeredInUpperDb'], true);
    assert.equal(findings.filter((x) => x.evidence['path'] === p['kept']).length, 0);
  });

  it('verify: the path it hides is masked, not hashed (the empty file is not taken for its content)', async () => {
    const run = await runCliCaptured(['verify', '--all', '--json', '--store', f.storeUrl]);
    assert.equal(run.code, 1, run.stdout);
    const { findings } = JSON.parse(run.stdout) as { findings: Finding[] };
    assert.deepEqual(
      findings.map((x) => [x.id, x.evidence['path'], x.evidence['form'], x.evidence['registeredInUpperDb']]),
      [['store.masked', p['hidden'], 'overlay.whiteout xattr', true]],
    );
  });
});
