/**
 * SQLite's integrity checks on real Nix 2.8 DBs damaged as indexes get damaged: what each check catches, and that
 * Nix itself then answers wrongly while a table scan (what `iterateValidPaths` does) still looks fine.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { integrityProblems, INTEGRITY_PRAGMA, MAX_INTEGRITY_PROBLEMS } from '../../agent/store/nix-db-integrity.ts';
import { openNixDb } from '../../agent/store/nix-db.ts';
import { breakPathIndexEntry, scribbleOverIndexPage, swapRefsIndexes } from '../support/corrupt-nix-db.ts';
import { buildNixFixtureStore, type NixFixtureStore } from '../support/nix-fixture-store.ts';
import { listDir } from '../support/nix-db-holder.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { requireCommand, requireNix } from '../support/requirements.ts';

describe('nix-db-integrity', function () {
  describe('integrityProblems (pure)', function () {
    it('is empty for SQLite’s single ok', function () {
      assert.deepEqual(integrityProblems(['ok']), []);
    });
    it('gives one problem per line, without the per-database heading, at most MAX_INTEGRITY_PROBLEMS', function () {
      assert.deepEqual(
        integrityProblems([
          '*** in database main ***\nTree 8 page 8 cell 1: Offset 23130 out of range\nTree 8 page 8 cell 0: x',
          'row 1 missing from index IndexReference',
        ]),
        ['Tree 8 page 8 cell 1: Offset 23130 out of range', 'Tree 8 page 8 cell 0: x', 'row 1 missing from index IndexReference'],
      );
      const many = Array.from({ length: 100 }, (_, i) => `row ${i} missing from index sqlite_autoindex_ValidPaths_1`);
      assert.equal(integrityProblems(many).length, MAX_INTEGRITY_PROBLEMS);
    });
    it('names the pragma each probe runs', function () {
      assert.deepEqual(INTEGRITY_PRAGMA, {
        quick: 'pragma quick_check',
        ValidPaths: 'pragma integrity_check(ValidPaths)',
        Refs: 'pragma integrity_check(Refs)',
      });
    });
  });

  describe('on damaged copies of a real Nix DB', function () {
    this.timeout(300_000);
    let tmp: string;
    let store: NixFixtureStore;
    let n = 0;
    /** A copy of the fixture store's root, its DB damaged by `damage`; returns the copy's root and DB file. */
    const damaged = (damage: (db: string) => void): { root: string; db: string } => {
      const root = path.join(tmp, `damaged-${++n}`);
      fs.cpSync(store.root, root, { recursive: true });
      const db = path.join(root, 'nix/var/nix/db/db.sqlite');
      damage(db);
      return { root, db };
    };
    const problems = (db: string): Record<string, string[]> => {
      const reader = openNixDb(db);
      try {
        return { quick: reader.checkIntegrity('quick'), ValidPaths: reader.checkIntegrity('ValidPaths'), Refs: reader.checkIntegrity('Refs') };
      } finally {
        reader.close();
      }
    };
    const nixQuery = (root: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync('nix-store', ['--store', root, '--query', ...args], { encoding: 'utf8', env: nixEnv() });

    before(function () {
      requireNix(this);
      requireCommand(this, 'busybox');
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nix-db-integrity-'));
      store = buildNixFixtureStore(path.join(tmp, 'root'), fs.mkdtempSync(path.join(tmp, 'work-')));
    });
    after(() => {
      if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('a sound DB passes every check, and checking creates nothing beside it', function () {
      const db = path.join(store.root, 'nix/var/nix/db/db.sqlite');
      const before = listDir(path.dirname(db));
      assert.deepEqual(problems(db), { quick: [], ValidPaths: [], Refs: [] });
      assert.deepEqual(listDir(path.dirname(db)), before);
    });

    it('Refs’ two indexes swapped (writable_schema): only integrity_check(Refs) sees it; Nix loses referrers, GC’s safety', function () {
      const { root, db } = damaged(swapRefsIndexes);
      const found = problems(db);
      assert.deepEqual([found['quick'], found['ValidPaths']], [[], []]);
      assert.ok(
        found['Refs']!.some((p) => /missing from index IndexReference/.test(p)),
        JSON.stringify(found),
      );
      assert.deepEqual(nixQuery(store.root, '--referrers', store.outputs.liba).stdout.trim().split('\n'), [store.outputs.tool]);
      assert.equal(nixQuery(root, '--referrers', store.outputs.liba).stdout.trim(), '', 'Nix, through the swapped index, finds no referrer');
      const reader = openNixDb(db);
      try {
        assert.ok(reader.isValidPath(store.outputs.tool), 'a table read still looks fine');
      } finally {
        reader.close();
      }
    });

    it('one entry of ValidPaths’ index on path broken: only integrity_check(ValidPaths) sees it; Nix calls the path not valid', function () {
      const { root, db } = damaged((file) => breakPathIndexEntry(file, store.outputs.tool));
      const found = problems(db);
      assert.deepEqual([found['quick'], found['Refs']], [[], []]);
      assert.equal(found['ValidPaths']!.length, 1, JSON.stringify(found));
      assert.match(found['ValidPaths']![0]!, /^row \d+ missing from index sqlite_autoindex_ValidPaths_1$/);
      const hash = nixQuery(root, '--hash', store.outputs.tool);
      assert.notEqual(hash.status, 0);
      assert.match(hash.stderr, /is not valid/);
      const reader = openNixDb(db);
      try {
        assert.ok(
          [...reader.iterateValidPaths()].some((row) => row.path === store.outputs.tool),
          'the table still registers it',
        );
      } finally {
        reader.close();
      }
    });

    it('an index page overwritten: quick_check sees it; Nix, reading through it, silently finds no referrer', function () {
      const { root, db } = damaged((file) => scribbleOverIndexPage(file, 'IndexReference'));
      const found = problems(db);
      assert.ok(found['quick']!.length > 0, JSON.stringify(found));
      assert.ok(found['Refs']!.length > 0, JSON.stringify(found));
      assert.deepEqual(found['ValidPaths'], []);
      const referrers = nixQuery(root, '--referrers', store.outputs.liba);
      assert.deepEqual([referrers.status, referrers.stdout.trim()], [0, '']);
    });
  });
});
