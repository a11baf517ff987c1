/**
 * Reading a Nix DB creates nothing beside it, whatever state Nix left it in, and stays right while Nix writes: on DBs
 * made by real Nix 2.8, with real Nix holding them open, crashing on them and writing them during a read. "Nothing"
 * is checked on the directory's listing: every name, size and mtime (to the nanosecond), and the directory's mtime.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NIX_DB_OPEN_ATTEMPTS, openNixDb, readNixDb, type NixDbOptions } from '../../agent/store/nix-db.ts';
import { NixDbError } from '../../agent/store/nix-db-error.ts';
import { buildNixFixtureStore } from '../support/nix-fixture-store.ts';
import { listDir, namesOf, NixDbHolder } from '../support/nix-db-holder.ts';
import { runNix } from '../support/nix-kit.ts';
import { readEverything } from '../support/read-nix-db.ts';
import { requireCommand, requireNix, requireRoot } from '../support/requirements.ts';

/** Opens `file`, reads everything, closes; asserts the mode and that the DB directory is exactly as before. */
function readLeavingNothing(file: string, options: NixDbOptions, mode: string): number {
  const before = listDir(path.dirname(file));
  const db = openNixDb(file, options);
  let rows: number;
  try {
    assert.equal(db.mode, mode);
    rows = readEverything(db);
    db.assertUnchanged('reading everything');
  } finally {
    db.close();
  }
  assert.deepEqual(listDir(path.dirname(file)), before);
  return rows;
}

describe('nix-db: reading creates nothing beside the DB, and stays right while Nix writes', function () {
  this.timeout(300_000);
  let tmp: string;
  let pristine: string;
  let paths: number;
  let copies = 0;
  /** A fresh copy of the fixture store (Nix closed its DB: no -wal, no -shm); returns its root and DB file. */
  const freshStore = (): { root: string; db: string } => {
    const root = path.join(tmp, `copy-${++copies}`);
    fs.cpSync(pristine, root, { recursive: true });
    return { root, db: path.join(root, 'nix/var/nix/db/db.sqlite') };
  };
  /** `nix-store --add` of a new small file to the store at `root` (real Nix writing the DB). */
  const addPath = (root: string): string => {
    const file = path.join(tmp, `added-${++copies}`);
    fs.writeFileSync(file, `${file}\n`);
    return runNix('nix-store', ['--store', root, '--add', file]).trim();
  };

  before(function () {
    requireRoot(this);
    requireNix(this);
    requireCommand(this, 'busybox');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nix-db-nothing-'));
    pristine = buildNixFixtureStore(path.join(tmp, 'pristine'), fs.mkdtempSync(path.join(tmp, 'work-'))).root;
    const db = path.join(pristine, 'nix/var/nix/db');
    assert.deepEqual(namesOf(listDir(db)), ['big-lock', 'db.sqlite', 'reserved', 'schema'], 'Nix closed its DB: no -wal, no -shm');
    paths = openNixDb(path.join(db, 'db.sqlite'), { immutable: true }).countValidPaths();
  });
  after(() => {
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Nix closed it (no -wal, no -shm), not read-only: read as a snapshot of the file; the directory is untouched', function () {
    assert.equal(readLeavingNothing(freshStore().db, {}, 'snapshot'), paths);
  });

  it('read-only=true: read as immutable; the directory is untouched', function () {
    assert.equal(readLeavingNothing(freshStore().db, { immutable: true }, 'immutable'), paths);
  });

  it('Nix has it open (its -wal and -shm there): read through them, commits of other Nix commands seen, the directory untouched', async function () {
    const { root, db } = freshStore();
    const holder = await NixDbHolder.start(root, db);
    try {
      // Another Nix command commits while the holder keeps the DB open: the row is in the -wal, not yet in the file.
      addPath(root);
      assert.equal(openNixDb(db, { immutable: true }).countValidPaths(), paths, 'the DB file alone lacks the new row');
      assert.equal(readLeavingNothing(db, {}, 'read-only'), paths + 1);
      // A connection that stays open sees what is committed after it opened, at its next read.
      const reader = openNixDb(db);
      try {
        addPath(root);
        assert.equal(reader.countValidPaths(), paths + 2);
      } finally {
        reader.close();
      }
    } finally {
      await holder.release();
    }
    assert.deepEqual(namesOf(listDir(path.dirname(db))), ['big-lock', 'db.sqlite', 'reserved', 'schema'], 'Nix, the last to close, removed both');
  });

  it('a killed Nix left its -wal (with a commit) and -shm: the commit is read, the -shm not even written; the directory is untouched', async function () {
    const { root, db } = freshStore();
    const holder = await NixDbHolder.start(root, db);
    addPath(root);
    await holder.kill();
    assert.deepEqual(namesOf(listDir(path.dirname(db))), ['big-lock', 'db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal', 'reserved', 'schema']);
    assert.equal(readLeavingNothing(db, {}, 'read-only'), paths + 1);
    // Immutable (read-only=true) reads the file alone, as Nix does with read-only=true.
    assert.equal(readLeavingNothing(db, { immutable: true }, 'immutable'), paths);
  });

  it('a -wal with a commit but no -shm: NIX_DB_WAL_UNREADABLE rather than creating the -shm or reading without the commit', async function () {
    const { root, db } = freshStore();
    const holder = await NixDbHolder.start(root, db);
    addPath(root);
    await holder.kill();
    fs.rmSync(`${db}-shm`);
    const before = listDir(path.dirname(db));
    assert.throws(
      () => openNixDb(db),
      (error: unknown) => error instanceof NixDbError && error.code === 'NIX_DB_WAL_UNREADABLE' && error.evidence['file'] === db,
    );
    assert.deepEqual(listDir(path.dirname(db)), before);
  });

  it('Nix writes while a snapshot is read: NIX_DB_CHANGED, never a silent mix of two states', function () {
    const { root, db } = freshStore();
    const reader = openNixDb(db);
    try {
      assert.equal(reader.mode, 'snapshot');
      assert.equal(reader.countValidPaths(), paths);
      assert.equal(reader.changedSinceOpen(), false);
      // A whole Nix command: it opens the DB, commits, and as the last connection checkpoints into the file.
      addPath(root);
      assert.equal(reader.changedSinceOpen(), true);
      assert.throws(
        () => reader.assertUnchanged('counting'),
        (error: unknown) => error instanceof NixDbError && error.code === 'NIX_DB_CHANGED' && error.evidence['file'] === db,
      );
    } finally {
      reader.close();
    }
  });

  it('readNixDb reads again when Nix wrote meanwhile, and gives up after NIX_DB_OPEN_ATTEMPTS', function () {
    const { root, db } = freshStore();
    let attempts = 0;
    const counted = readNixDb(db, {}, (reader) => {
      attempts++;
      const count = reader.countValidPaths();
      if (attempts === 1) addPath(root);
      return count;
    });
    assert.deepEqual([attempts, counted], [2, paths + 1]);
    attempts = 0;
    assert.throws(
      () =>
        readNixDb(db, {}, (reader) => {
          attempts++;
          addPath(root);
          return reader.countValidPaths();
        }),
      (error: unknown) => error instanceof NixDbError && error.code === 'NIX_DB_CHANGED',
    );
    assert.equal(attempts, NIX_DB_OPEN_ATTEMPTS);
    assert.deepEqual(namesOf(listDir(path.dirname(db))), ['big-lock', 'db.sqlite', 'reserved', 'schema']);
  });
});
