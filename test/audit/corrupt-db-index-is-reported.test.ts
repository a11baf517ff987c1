/**
 * A corrupt index in the upper DB of a real overlay store (real Nix 2.8 stores, the DB damaged in place: it is this
 * test's fixture) makes Nix answer wrongly while every table read looks fine. `check`, `audit` and `verify` say so,
 * each with the check it can afford: `check` SQLite's quick_check (damaged pages), `audit` integrity_check of the
 * upper DB's ValidPaths (how Nix finds a path), `verify` that of both DBs' ValidPaths and of the upper DB's Refs (how
 * Nix finds referrers, what GC relies on).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { breakPathIndexEntry, scribbleOverIndexPage, swapRefsIndexes } from '../support/corrupt-nix-db.ts';
import { listDir } from '../support/nix-db-holder.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

interface Report {
  readonly findings: readonly Finding[];
}

describe('a corrupt index in the overlay store’s DBs is reported by check, audit and verify', function () {
  this.timeout(300_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;
  let upperDb: string;
  let pristine: string;

  const run = async (command: string): Promise<{ code: number; report: Report }> => {
    const result = await runCliCaptured([command, '--json', '--store', f.storeUrl]);
    return { code: result.code, report: JSON.parse(result.stdout) as Report };
  };
  const dbFindings = (report: Report): Finding[] => report.findings.filter((x) => x.id === 'store.db-corrupt' || x.id === 'layer.upper-db-corrupt');
  /** Puts the sound upper DB back, then damages it with `damage`. */
  const damage = (how: (db: string) => void): void => {
    fs.copyFileSync(pristine, upperDb);
    how(upperDb);
  };

  before(function () {
    requireNixOverlayFixture(this);
    f = createNixOverlayFixture();
    f.unmounted('nix-store --store "$A" --add "$EXPR" >/dev/null');
    // The overlay store builds the chain (seed 2): upper paths that reference each other, registered in the upper DB.
    p = parseAssignments(
      f.mounted(`${COPY_UP}
        out=$(nix-build --store "$B" "$EXPR" --no-out-link --arg seed 2 2>/dev/null)
        echo out=$out
        echo input2=$(nix-store --store "$B" -qR "$out" | grep -- '-chain-input-2$')
      `),
    );
    for (const key of ['out', 'input2']) assert.match(p[key] ?? '', /^\/nix\/store\/[0-9a-z]{32}-/, key);
    upperDb = path.join(f.mergedRoot, 'nix/var/nix/db/db.sqlite');
    pristine = path.join(f.dir, 'pristine-upper.sqlite');
    fs.copyFileSync(upperDb, pristine);
  });
  after(() => f?.remove());

  it('a sound DB: no finding from any of them', async () => {
    damage(() => undefined);
    for (const command of ['check', 'audit', 'verify']) assert.deepEqual(dbFindings((await run(command)).report), [], command);
  });

  it('a ValidPaths index entry broken: audit and verify report it (check cannot); Nix calls the path not valid', async () => {
    damage((db) => breakPathIndexEntry(db, p['out']!));
    assert.match(f.unmounted(`nix-store --store "$B" -q --hash ${p['out']} 2>&1 || true`), /is not valid/);
    assert.deepEqual(dbFindings((await run('check')).report), []);
    for (const command of ['audit', 'verify']) {
      const { code, report } = await run(command);
      assert.equal(code, 1, command);
      const [found, ...rest] = dbFindings(report);
      assert.deepEqual(rest, [], command);
      assert.deepEqual(
        [found?.id, found?.severity, found?.evidence['db'], found?.evidence['path'], found?.evidence['pragma']],
        ['store.db-corrupt', 'error', 'upper', upperDb, 'pragma integrity_check(ValidPaths)'],
        command,
      );
      assert.match(String((found?.evidence['problems'] as string[])[0]), /missing from index sqlite_autoindex_ValidPaths_1/);
    }
  });

  it('Refs’ indexes swapped: verify reports it; Nix finds no referrer where there is one', async () => {
    damage(swapRefsIndexes);
    assert.equal(f.unmounted(`nix-store --store "$B" -q --referrers ${p['input2']}`).trim(), '', 'Nix, through the swapped index');
    const { code, report } = await run('verify');
    assert.equal(code, 1);
    assert.deepEqual(
      dbFindings(report).map((x) => [x.id, x.evidence['db'], x.evidence['pragma']]),
      [['store.db-corrupt', 'upper', 'pragma integrity_check(Refs)']],
    );
  });

  it('a ValidPaths index entry of the lower DB broken: verify reports it; Nix calls the lower path not valid', async () => {
    damage(() => undefined);
    const lowerDb = path.join(f.lowerRoot, 'nix/var/nix/db/db.sqlite');
    const lowerPristine = path.join(f.dir, 'pristine-lower.sqlite');
    fs.copyFileSync(lowerDb, lowerPristine);
    const exprPath = f.unmounted('nix-store --store "$A" --add "$EXPR"').trim();
    try {
      breakPathIndexEntry(lowerDb, exprPath);
      assert.match(f.unmounted(`nix-store --store "$A" -q --hash ${exprPath} 2>&1 || true`), /is not valid/);
      assert.deepEqual(dbFindings((await run('audit')).report), [], 'the audit checks the upper DB only');
      const { code, report } = await run('verify');
      assert.equal(code, 1);
      assert.deepEqual(
        dbFindings(report).map((x) => [x.id, x.evidence['db'], x.evidence['path'], x.evidence['pragma']]),
        [['store.db-corrupt', 'lower', lowerDb, 'pragma integrity_check(ValidPaths)']],
      );
    } finally {
      fs.copyFileSync(lowerPristine, lowerDb);
    }
  });

  it('an index page overwritten: check reports layer.upper-db-corrupt', async () => {
    damage((db) => scribbleOverIndexPage(db, 'IndexReference'));
    const { code, report } = await run('check');
    assert.equal(code, 1);
    const [found, ...rest] = dbFindings(report);
    assert.deepEqual(rest, []);
    assert.deepEqual(
      [found?.id, found?.severity, found?.evidence['path'], found?.evidence['pragma']],
      ['layer.upper-db-corrupt', 'error', upperDb, 'pragma quick_check'],
    );
  });

  it('none of them created anything beside the DB', async () => {
    damage(() => undefined);
    const before = listDir(path.dirname(upperDb));
    for (const command of ['check', 'audit', 'verify']) await run(command);
    assert.deepEqual(listDir(path.dirname(upperDb)), before);
  });
});
