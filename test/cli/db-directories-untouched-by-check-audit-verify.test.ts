/**
 * `check`, `audit` and `verify` leave both DB directories exactly as they were (every name, size and mtime, and the
 * directories' own mtimes): for a lower store given with and without `read-only=true`, and for an upper DB that Nix
 * closed (no -wal, no -shm), that a live Nix holds open, and whose -wal and -shm a killed Nix left. Real Nix 2.8
 * stores, real Nix holding and crashing.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { listDir, namesOf, NixDbHolder } from '../support/nix-db-holder.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

const CLOSED = ['big-lock', 'db.sqlite', 'reserved', 'schema'];
const HELD = ['big-lock', 'db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal', 'reserved', 'schema'];

describe('check, audit and verify leave both DB directories untouched', function () {
  this.timeout(300_000);
  let f: NixOverlayFixture;
  let out: string;
  let upperDb: string;
  let lowerDb: string;

  /** The overlay store URL with the lower store given with or without read-only=true. */
  const storeUrl = (lowerReadOnly: boolean): string =>
    lowerReadOnly ? f.storeUrl.replace(encodeURIComponent(f.lowerRoot), encodeURIComponent(`${f.lowerRoot}?read-only=true`)) : f.storeUrl;
  /** A Nix command on the overlay store's DB: it opens and closes it, and so removes what a killed Nix left. */
  const nixOpensAndCloses = (): string => f.unmounted(`nix-store --store "$B" -q --hash ${out}`);

  before(function () {
    requireNixOverlayFixture(this);
    f = createNixOverlayFixture();
    f.unmounted(`
      nix-store --store "$A" --add "$EXPR" >/dev/null
      nix-store --store "$A" --realise "$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)" >/dev/null 2>&1
    `);
    out = parseAssignments(
      f.mounted(`${COPY_UP}
        drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
        copy_up $drv $(nix-store --store "$A" -q --outputs $drv)
        echo out=$(nix-build --store "$B" "$EXPR" --no-out-link --arg seed 2 2>/dev/null)
      `),
    )['out']!;
    upperDb = path.join(f.mergedRoot, 'nix/var/nix/db/db.sqlite');
    lowerDb = path.join(f.lowerRoot, 'nix/var/nix/db/db.sqlite');
    assert.deepEqual([namesOf(listDir(path.dirname(upperDb))), namesOf(listDir(path.dirname(lowerDb)))], [CLOSED, CLOSED]);
  });
  after(() => f?.remove());

  /** Runs the three commands on the store, and asserts that neither DB directory changed and that both DBs were read. */
  async function runAll(lowerReadOnly: boolean): Promise<void> {
    const before = [listDir(path.dirname(upperDb)), listDir(path.dirname(lowerDb))];
    for (const command of ['check', 'audit', 'verify']) {
      const run = await runCliCaptured([command, '--json', '--store', storeUrl(lowerReadOnly)]);
      const report = JSON.parse(run.stdout) as { findings?: Finding[]; error?: unknown };
      assert.equal(report.error, null, `${command}: ${run.stdout}`);
      const dbFindings = (report.findings ?? []).filter((x) => /^layer\.(upper|lower)-db|^store\.db-/.test(x.id));
      assert.deepEqual(dbFindings, [], command);
      if (command !== 'check') assert.equal(run.code, 0, `${command}: ${run.stdout}`);
    }
    assert.deepEqual([listDir(path.dirname(upperDb)), listDir(path.dirname(lowerDb))], before);
  }

  for (const lowerReadOnly of [false, true]) {
    describe(lowerReadOnly ? 'lower store read-only=true' : 'lower store without read-only=true', function () {
      it('upper DB closed by Nix (no -wal, no -shm)', async () => {
        nixOpensAndCloses();
        assert.deepEqual(namesOf(listDir(path.dirname(upperDb))), CLOSED);
        await runAll(lowerReadOnly);
      });

      it('upper DB held open by a live Nix (its -wal and -shm there)', async () => {
        const holder = await NixDbHolder.start(f.mergedRoot, upperDb);
        try {
          assert.deepEqual(namesOf(listDir(path.dirname(upperDb))), HELD);
          await runAll(lowerReadOnly);
        } finally {
          await holder.release();
        }
      });

      it('upper DB with the -wal and -shm a killed Nix left', async () => {
        const holder = await NixDbHolder.start(f.mergedRoot, upperDb);
        await holder.kill();
        assert.deepEqual(namesOf(listDir(path.dirname(upperDb))), HELD);
        await runAll(lowerReadOnly);
      });
    });
  }
});
