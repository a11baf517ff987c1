import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSchemaVersion, readSchemaVersion, sqliteFileUri } from '../../agent/store/nix-db-open.ts';
import { requireCommand } from '../support/requirements.ts';
import { NixDbError, toNixDbError } from '../../agent/store/nix-db-error.ts';

describe('nix-db-open', function () {
  describe('parseSchemaVersion', function () {
    it('reads the integer Nix writes, with or without a newline', function () {
      assert.equal(parseSchemaVersion('10'), 10);
      assert.equal(parseSchemaVersion('10\n'), 10);
      assert.equal(parseSchemaVersion(' 7 '), 7);
    });
    it('rejects anything else', function () {
      for (const text of ['', 'ten', '1 0', '-1', '10.0', '0x10', '1e1', '9999999999']) assert.equal(parseSchemaVersion(text), undefined, text);
    });
  });

  describe('readSchemaVersion', function () {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-schema-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads the version Nix wrote', () => {
      fs.writeFileSync(path.join(dir, 'schema'), '10');
      assert.equal(readSchemaVersion(path.join(dir, 'schema')), 10);
    });

    it('fails at once, NIX_DB_SCHEMA_UNREADABLE, for a FIFO or a device in its place, and for a file over the cap', function () {
      requireCommand(this, 'mkfifo');
      const fifo = path.join(dir, 'fifo-schema');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const big = path.join(dir, 'big-schema');
      fs.writeFileSync(big, `10${' '.repeat(8192)}`);
      for (const [file, why] of [
        [fifo, /is a FIFO, not a regular file/],
        ['/dev/zero', /is a character device, not a regular file/],
        [big, /is 8194 bytes, more than 4 KiB/],
      ] as const) {
        assert.throws(
          () => readSchemaVersion(file),
          (e) => e instanceof NixDbError && e.code === 'NIX_DB_SCHEMA_UNREADABLE' && why.test(e.message),
        );
      }
    });
  });

  describe('sqliteFileUri', function () {
    it('keeps plain paths readable and adds the query', function () {
      assert.equal(sqliteFileUri('/nix/var/nix/db/db.sqlite', { mode: 'ro', immutable: '1' }), 'file:/nix/var/nix/db/db.sqlite?mode=ro&immutable=1');
      assert.equal(sqliteFileUri('/a/b', {}), 'file:/a/b');
    });
    it('escapes what SQLite would read as URI syntax, and non-ASCII as UTF-8', function () {
      assert.equal(sqliteFileUri('/a b/c?d#e%f/é', { mode: 'ro' }), 'file:/a%20b/c%3Fd%23e%25f/%C3%A9?mode=ro');
    });
  });

  describe('toNixDbError', function () {
    const sqliteError = (errcode: number): Error => Object.assign(new Error(`sqlite ${errcode}`), { code: 'ERR_SQLITE_ERROR', errcode });
    it('maps SQLite result codes (primary and extended) to reader codes, keeping the cause', function () {
      const cases: [number, string][] = [
        [5, 'NIX_DB_LOCKED'],
        [517, 'NIX_DB_LOCKED'],
        [6, 'NIX_DB_LOCKED'],
        [15, 'NIX_DB_LOCKED'],
        [26, 'NIX_DB_NOT_SQLITE'],
        [11, 'NIX_DB_CORRUPT'],
        [14, 'NIX_DB_UNREADABLE'],
        [1544, 'NIX_DB_UNREADABLE'],
        [1, 'NIX_DB_QUERY_FAILED'],
      ];
      for (const [errcode, code] of cases) {
        const cause = sqliteError(errcode);
        const error = toNixDbError(cause, '/db.sqlite', 'testing');
        assert.equal(error.code, code, String(errcode));
        assert.equal(error.cause, cause);
        assert.equal(error.evidence['file'], '/db.sqlite');
        assert.equal(error.evidence['sqliteCode'], errcode);
      }
    });
    it('passes a NixDbError through, and reports non-SQLite errors as query failures', function () {
      const own = new NixDbError('NIX_DB_CLOSED', 'closed');
      assert.equal(toNixDbError(own, '/x', 'y'), own);
      assert.equal(toNixDbError(new TypeError('boom'), '/x', 'y').code, 'NIX_DB_QUERY_FAILED');
    });
  });
});
