import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { checkDbFile, classifyDbHeader, readDbFileStamp, sameDbFileStamp, SQLITE_HEADER } from '../../agent/store/nix-db-file.ts';
import { describeNixDbContent, inspectNixDbFile, nixDbContentOf } from '../../agent/store/nix-db-content.ts';
import { NixDbError } from '../../agent/store/nix-db-error.ts';
import { createNixDb } from '../../agent/demo/nix-db-writer.ts';
import { requireCommand } from '../support/requirements.ts';

describe('nix-db-file and nix-db-content', function () {
  describe('classifyDbHeader (pure)', function () {
    it('tells empty, not SQLite and SQLite apart by the first 16 bytes', function () {
      assert.equal(classifyDbHeader(Buffer.alloc(0), 0), 'empty');
      assert.equal(classifyDbHeader(Buffer.concat([SQLITE_HEADER, Buffer.from([0x10, 0])]), 4096), 'sqlite');
      assert.equal(classifyDbHeader(Buffer.from('SQLite format 2\0'), 4096), 'not-sqlite');
      assert.equal(classifyDbHeader(Buffer.from('SQLite'), 6), 'not-sqlite');
      assert.equal(classifyDbHeader(Buffer.from('{"paths": []}\n'), 14), 'not-sqlite');
    });
  });

  describe('sameDbFileStamp (pure)', function () {
    const stamp = { dev: '1', ino: '2', size: '4096', mtimeNs: '10', ctimeNs: '11' };
    it('is true only for two equal stamps', function () {
      assert.equal(sameDbFileStamp(stamp, { ...stamp }), true);
      for (const key of Object.keys(stamp)) assert.equal(sameDbFileStamp(stamp, { ...stamp, [key]: '99' }), false, key);
      assert.equal(sameDbFileStamp(stamp, undefined), false);
      assert.equal(sameDbFileStamp(undefined, undefined), false);
    });
  });

  describe('nixDbContentOf (pure)', function () {
    it('names what a file is instead of a Nix DB, from the error opening it threw', function () {
      const verdict = (code: ConstructorParameters<typeof NixDbError>[0]): string => nixDbContentOf(new NixDbError(code, 'x'));
      assert.equal(verdict('NIX_DB_EMPTY'), 'empty');
      assert.equal(verdict('NIX_DB_NOT_SQLITE'), 'not-sqlite');
      assert.equal(verdict('NIX_DB_NOT_NIX'), 'wrong-schema');
      assert.equal(verdict('NIX_DB_SCHEMA_UNSUPPORTED'), 'wrong-schema');
      assert.equal(verdict('NIX_DB_CORRUPT'), 'unreadable');
      assert.equal(nixDbContentOf(new Error('boom')), 'unreadable');
      assert.equal(describeNixDbContent('not-sqlite'), 'not an SQLite database');
    });
  });

  describe('on files', function () {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nix-db-file-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, content: string | Buffer): string => {
      const at = path.join(dir, name);
      fs.writeFileSync(at, content);
      return at;
    };
    const codeOf = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        return error instanceof NixDbError ? error.code : `not a NixDbError: ${String(error)}`;
      }
      return undefined;
    };

    it('checkDbFile: NIX_DB_EMPTY, NIX_DB_NOT_SQLITE (with the first bytes), NIX_DB_MISSING; nothing for an SQLite file', function () {
      assert.equal(
        codeOf(() => checkDbFile(file('empty', ''))),
        'NIX_DB_EMPTY',
      );
      const json = file('json', '{"not": "a database"}\n');
      try {
        checkDbFile(json);
        assert.fail('a JSON file passed');
      } catch (error) {
        assert.ok(error instanceof NixDbError && error.code === 'NIX_DB_NOT_SQLITE');
        assert.equal(error.evidence['head'], Buffer.from('{"not": "a datab').toString('hex'));
        assert.equal(error.evidence['content'], 'not-sqlite');
      }
      assert.equal(
        codeOf(() => checkDbFile(path.join(dir, 'none'))),
        'NIX_DB_MISSING',
      );
      assert.equal(
        codeOf(() => checkDbFile(dir)),
        'NIX_DB_NOT_SQLITE',
      );
      const sqlite = path.join(dir, 'plain.sqlite');
      new DatabaseSync(sqlite).exec('create table t (x)');
      assert.equal(
        codeOf(() => checkDbFile(sqlite)),
        undefined,
      );
    });

    it('checkDbFile refuses a FIFO without blocking on it', function () {
      requireCommand(this, 'mkfifo');
      const fifo = path.join(dir, 'fifo');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      assert.equal(
        codeOf(() => checkDbFile(fifo)),
        'NIX_DB_NOT_SQLITE',
      );
    });

    it('readDbFileStamp changes when the file is written, and is undefined for a missing file', function () {
      const at = file('stamped', 'one');
      const before = readDbFileStamp(at);
      assert.ok(sameDbFileStamp(before, readDbFileStamp(at)));
      fs.appendFileSync(at, 'two');
      assert.equal(sameDbFileStamp(before, readDbFileStamp(at)), false);
      assert.equal(readDbFileStamp(path.join(dir, 'none')), undefined);
    });

    it('inspectNixDbFile: a Nix DB with its counters; empty, not SQLite, wrong schema as verdicts, never an error', function () {
      const state = path.join(dir, 'state');
      const writer = createNixDb(state);
      const id = writer.addPath({
        path: '/nix/store/00000000000000000000000000000000-a',
        narHash: `sha256:${'0'.repeat(64)}`,
        narSize: 8,
        registrationTime: 1,
      });
      writer.finish();
      assert.deepEqual(inspectNixDbFile(path.join(state, 'db/db.sqlite')), { content: 'nix-db', validPaths: { count: 1, maxId: id } });
      assert.deepEqual(inspectNixDbFile(path.join(state, 'db/db.sqlite'), false), { content: 'nix-db', validPaths: null });
      assert.deepEqual(inspectNixDbFile(file('empty2', '')), { content: 'empty', validPaths: null });
      assert.deepEqual(inspectNixDbFile(file('text', 'hello\n'.repeat(100))), { content: 'not-sqlite', validPaths: null });
      const other = path.join(dir, 'other.sqlite');
      new DatabaseSync(other).exec('create table Foo (x)');
      assert.deepEqual(inspectNixDbFile(other), { content: 'wrong-schema', validPaths: null });
    });
  });
});
