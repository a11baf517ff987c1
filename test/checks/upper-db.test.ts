import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decideUpperDb, probeUpperDb } from '../../agent/checks/upper-db.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';
import { ids } from './literal-facts.ts';
import { scribbleOverIndexPage } from '../support/corrupt-nix-db.ts';
import { listDir } from '../support/nix-db-holder.ts';

describe('check layer.upper-db', () => {
  it('decides (pure): absent is info, schema, corrupt and unreadable are errors, a readable sound DB is fine', () => {
    assert.deepEqual(decideUpperDb({ file: '/s/db.sqlite', state: 'ok', schemaVersion: 10, mode: 'read-only', problems: [] }), []);
    const [absent] = decideUpperDb({ file: '/s/db.sqlite', state: 'absent' });
    assert.deepEqual([absent?.id, absent?.severity], ['layer.upper-db-absent', 'info']);
    const [schema] = decideUpperDb({ file: '/s/db.sqlite', state: 'error', code: 'NIX_DB_SCHEMA_UNSUPPORTED', message: 'version 11', evidence: { found: 11 } });
    assert.deepEqual([schema?.id, schema?.severity, schema?.evidence['found']], ['layer.upper-db-schema', 'error', 11]);
    assert.deepEqual(ids(decideUpperDb({ file: '/s/db.sqlite', state: 'error', code: 'NIX_DB_NOT_SQLITE', message: 'no', evidence: {} })), [
      'layer.upper-db-unreadable',
    ]);
    assert.deepEqual(ids(decideUpperDb({ file: '/s/db.sqlite', state: 'error', code: 'NIX_DB_EMPTY', message: 'empty', evidence: {} })), [
      'layer.upper-db-schema',
    ]);
    assert.deepEqual(ids(decideUpperDb({ file: '/s/db.sqlite', state: 'error', code: 'NIX_DB_CORRUPT', message: 'bad', evidence: {} })), [
      'layer.upper-db-corrupt',
    ]);
    const [corrupt] = decideUpperDb({ file: '/s/db.sqlite', state: 'ok', schemaVersion: 10, mode: 'snapshot', problems: ['row 7 missing from index x'] });
    assert.deepEqual([corrupt?.id, corrupt?.evidence['problems']], ['layer.upper-db-corrupt', ['row 7 missing from index x']]);
  });

  describe('probing a real Nix DB read-only', function () {
    let dir = '';
    let db = '';
    before(function () {
      requireCommand(this, 'nix-store');
      dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-upperdb-')));
      fs.writeFileSync(path.join(dir, 'f'), 'x\n');
      runNix('nix-store', ['--store', path.join(dir, 'store'), '--add', path.join(dir, 'f')]);
      db = path.join(dir, 'store/nix/var/nix/db/db.sqlite');
    });
    after(() => {
      if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
    });

    it('opens the DB Nix made and runs quick_check, changing nothing in its directory', () => {
      const before = fs.readFileSync(db);
      const listing = listDir(path.dirname(db));
      const facts = probeUpperDb(db, '/nix/store');
      assert.equal(facts.state, 'ok');
      assert.equal(facts.state === 'ok' && facts.schemaVersion, 10);
      assert.deepEqual(facts.state === 'ok' && facts.problems, []);
      assert.deepEqual(fs.readFileSync(db), before);
      assert.deepEqual(listDir(path.dirname(db)), listing);
    });

    it('layer.upper-db-corrupt for a damaged index page, naming quick_check and what it found', () => {
      const copy = path.join(dir, 'damaged');
      fs.cpSync(path.dirname(db), copy, { recursive: true });
      scribbleOverIndexPage(path.join(copy, 'db.sqlite'), 'sqlite_autoindex_ValidPaths_1');
      const [found, ...rest] = decideUpperDb(probeUpperDb(path.join(copy, 'db.sqlite'), '/nix/store'));
      assert.deepEqual(rest, []);
      assert.deepEqual([found?.id, found?.severity, found?.evidence['pragma']], ['layer.upper-db-corrupt', 'error', 'pragma quick_check']);
      assert.ok((found?.evidence['problems'] as string[]).length > 0);
    });

    it('reports an absent DB, an unknown schema version, and a file that is not SQLite', () => {
      assert.equal(probeUpperDb(path.join(dir, 'none/db.sqlite'), '/nix/store').state, 'absent');
      // A copy of Nix's DB dir (this test's own files) with the schema file bumped.
      const copy = path.join(dir, 'copy');
      fs.cpSync(path.dirname(db), copy, { recursive: true });
      fs.writeFileSync(path.join(copy, 'schema'), '11');
      assert.deepEqual(ids(decideUpperDb(probeUpperDb(path.join(copy, 'db.sqlite'), '/nix/store'))), ['layer.upper-db-schema']);
      const junk = path.join(dir, 'junk');
      fs.mkdirSync(junk);
      fs.writeFileSync(path.join(junk, 'db.sqlite'), 'this is not a database, just text long enough to have a header'.repeat(20));
      fs.writeFileSync(path.join(junk, 'schema'), '10');
      assert.deepEqual(ids(decideUpperDb(probeUpperDb(path.join(junk, 'db.sqlite'), '/nix/store'))), ['layer.upper-db-unreadable']);
    });
  });
});
