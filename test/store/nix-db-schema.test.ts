import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { NIX_DB_SCHEMA_SQL, NIX_SCHEMA_VERSION, VALID_PATHS_COLUMNS } from '../../agent/store/nix-db-schema.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';

/** Everything about a DB's schema that SQLite and Nix act on, without the SQL text's spelling. */
function structureOf(db: DatabaseSync): unknown {
  const objects = db.prepare("select type, name, tbl_name from sqlite_master where name not like 'sqlite_%' order by type, name").all();
  const tables = objects.filter((o) => o['type'] === 'table').map((o) => String(o['name']));
  return {
    objects,
    tables: tables.map((table) => ({
      table,
      columns: db.prepare('select * from pragma_table_xinfo(?)').all(table),
      foreignKeys: db.prepare('select "table", "from", "to", on_update, on_delete from pragma_foreign_key_list(?) order by id, seq').all(table),
      indexes: db
        .prepare('select name, "unique", origin, partial from pragma_index_list(?) order by name')
        .all(table)
        .map((index) => ({
          ...index,
          name: String(index['name']).startsWith('sqlite_autoindex') ? 'autoindex' : index['name'],
          columns: db.prepare('select seqno, name from pragma_index_info(?)').all(String(index['name'])),
        })),
    })),
  };
}

describe('nix-db-schema', function () {
  let tmp: string;

  before(function () {
    requireCommand(this, 'nix-store');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-db-schema-test-'));
  });

  after(function () {
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('creates the same tables, columns, keys, indexes and trigger as Nix 2.8, and Nix writes the same version', function () {
    fs.writeFileSync(path.join(tmp, 'file'), 'x\n');
    runNix('nix-store', ['--store', path.join(tmp, 'root'), '--add', path.join(tmp, 'file')]);
    const dbDir = path.join(tmp, 'root', 'nix', 'var', 'nix', 'db');
    assert.equal(fs.readFileSync(path.join(dbDir, 'schema'), 'utf8'), String(NIX_SCHEMA_VERSION));
    const nix = new DatabaseSync(`file:${path.join(dbDir, 'db.sqlite')}?immutable=1`, { readOnly: true });
    const ours = new DatabaseSync(':memory:');
    ours.exec(NIX_DB_SCHEMA_SQL);
    try {
      assert.deepEqual(structureOf(ours), structureOf(nix));
      assert.deepEqual(
        nix
          .prepare("select name from pragma_table_info('ValidPaths') order by cid")
          .all()
          .map((row) => row['name']),
        [...VALID_PATHS_COLUMNS],
      );
    } finally {
      nix.close();
      ours.close();
    }
  });

  it("deletes self-references with the path, as Nix's trigger does", function () {
    const db = new DatabaseSync(':memory:');
    db.exec(NIX_DB_SCHEMA_SQL);
    db.exec("insert into ValidPaths (path, hash, registrationTime) values ('/nix/store/a', 'sha256:00', 1); insert into Refs values (1, 1);");
    db.exec('pragma foreign_keys = on; delete from ValidPaths where id = 1');
    assert.equal(db.prepare('select count(*) as n from Refs').get()?.['n'], 0);
    db.close();
  });
});
