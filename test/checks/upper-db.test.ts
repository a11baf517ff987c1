import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decideUpperDb, probeUpperDb } from '../../agent/checks/upper-db.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';
import { ids } from './literal-facts.ts';

describe('check layer.upper-db', () => {
  it('decides (pure): absent is info, schema and unreadable are errors, a readable DB is fine', () => {
    assert.deepEqual(decideUpperDb({ file: '/s/db.sqlite', state: 'ok', schemaVersion: 10, mode: 'read-only', problems: [] }), []);
    const [absent] = decideUpperDb({ file: '/s/db.sqlite', state: 'absent' });
    assert.deepEqual([absent?.id, absent?.severity], ['layer.upper-db-absent', 'info']);
    const [schema] = decideUpperDb({ file: '/s/db.sqlite', state: 'error', code: 'NIX_DB_SCHEMA_UNSUPPORTED', message: 'version 11', evidence: { found: 11 } });
    assert.deepEqual([schema?.id, schema?.severity, schema?.evidence['found']], ['layer.upper-db-schema', 'error', 11]);
    assert.deepEqual(ids(decideUpperDb({ file: '/s/db.sqlite', state: 'error', code: 'NIX_DB_NOT_SQLITE', message: 'no', evidence: {} })), [
      'layer.upper-db-unreadable',
    ]);
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

    it('opens the DB Nix made, without changing it', () => {
      const before = fs.readFileSync(db);
      const facts = probeUpperDb(db, '/nix/store');
      assert.equal(facts.state, 'ok');
      assert.equal(facts.state === 'ok' && facts.schemaVersion, 10);
      assert.deepEqual(fs.readFileSync(db), before);
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
