import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { parseNarHash } from '../../agent/store/nar-hash-string.ts';
import { openNixDb, type NixDb, type NixDbOptions } from '../../agent/store/nix-db.ts';
import { NixDbError, type NixDbErrorCode } from '../../agent/store/nix-db-error.ts';
import { NIX_SCHEMA_VERSION } from '../../agent/store/nix-db-schema.ts';
import { buildNixFixtureStore, nixPathInfos, nixQuery, type NixFixtureStore, type NixPathInfo } from '../support/nix-fixture-store.ts';
import { busyboxPath, runNix } from '../support/nix-kit.ts';
import { runScriptAsNobody } from '../support/as-nobody.ts';
import { readEverything } from '../support/read-nix-db.ts';
import { requireCommand, requireNix, requireRoot } from '../support/requirements.ts';

const NIX_DB_MODULE = pathToFileURL(path.resolve('agent/store/nix-db.ts')).href;

/** Copies a Nix DB dir (db.sqlite, schema) to a new dir under `parent`, returning the new db.sqlite. */
function copyDb(fromDbDir: string, parent: string, name: string): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const file of ['db.sqlite', 'schema']) fs.copyFileSync(path.join(fromDbDir, file), path.join(dir, file));
  return path.join(dir, 'db.sqlite');
}

/** Asserts `run` throws a NixDbError with `code` whose evidence names `file`; returns it. */
function expectNixDbError(run: () => unknown, code: NixDbErrorCode, file?: string): NixDbError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof NixDbError, `expected NixDbError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (file !== undefined) assert.equal(caught.evidence['file'], file);
  assert.ok(typeof caught.hint === 'string' && caught.hint.length > 0, `${code} carries a hint`);
  return caught;
}

/** Bytes, mtime and sibling files of a DB, to prove a read changed nothing. */
function snapshot(file: string): { sha256: string; mtimeMs: number; siblings: string[] } {
  return {
    sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
    mtimeMs: fs.statSync(file).mtimeMs,
    siblings: fs.readdirSync(path.dirname(file)).sort(),
  };
}

/** Runs openNixDb + a count as user nobody in a child process; returns what it printed (mode and count, or the error code). */
function readAsNobody(file: string, options: NixDbOptions = {}): { mode?: string; count?: number; code?: string } {
  const script = `
    import { openNixDb } from ${JSON.stringify(NIX_DB_MODULE)};
    try {
      const db = openNixDb(${JSON.stringify(file)}, ${JSON.stringify(options)});
      const count = [...db.iterateValidPaths()].length;
      db.close();
      console.log(JSON.stringify({ mode: db.mode, count }));
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, message: error.message }));
    }`;
  const result = runScriptAsNobody(script);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as { mode?: string; count?: number; code?: string };
}

/** Leaves `file` as a writer killed mid-flight would: a row committed to the WAL, never checkpointed, -wal and -shm left. */
function crashWriterAfterInsert(file: string, storePath: string): void {
  const script = `
    import { DatabaseSync } from 'node:sqlite';
    const db = new DatabaseSync(${JSON.stringify(file)});
    db.exec("pragma journal_mode = wal; pragma wal_autocheckpoint = 0");
    db.prepare("insert into ValidPaths (path, hash, registrationTime) values (?, 'sha256:00', 1)").run(${JSON.stringify(storePath)});
    process.kill(process.pid, 'SIGKILL');`;
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script]);
  assert.ok(fs.statSync(`${file}-wal`).size > 0, 'the killed writer left WAL frames');
}

describe('nix-db', function () {
  let tmp: string;
  let store: NixFixtureStore;
  let dbDir: string;
  let infos: Map<string, NixPathInfo>;

  before(function () {
    this.timeout(300_000);
    requireNix(this);
    requireCommand(this, 'busybox');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nix-db-test-'));
    fs.chmodSync(tmp, 0o755);
    store = buildNixFixtureStore(path.join(tmp, 'root'), fs.mkdtempSync(path.join(tmp, 'work-')));
    dbDir = path.join(store.root, 'nix', 'var', 'nix', 'db');
    infos = nixPathInfos(store.root);
  });

  after(function () {
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('against real Nix', function () {
    let db: NixDb;
    before(function () {
      db = openNixDb(copyDb(dbDir, tmp, 'compare'), { immutable: true });
    });
    after(() => db?.close());

    it('reads the schema version Nix 2.8 wrote', function () {
      assert.equal(fs.readFileSync(path.join(dbDir, 'schema'), 'utf8').trim(), String(NIX_SCHEMA_VERSION));
      assert.equal(db.schemaVersion, NIX_SCHEMA_VERSION);
      assert.equal(db.mode, 'immutable');
    });

    it('streams the rows after an id, in id order (how a scrub resumes from its cursor)', function () {
      const rows = [...db.iterateValidPaths()];
      const ids = rows.map((r) => r.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      const cut = ids[3]!;
      assert.deepEqual([...db.iterateValidPaths(cut)], rows.slice(4));
      assert.deepEqual([...db.iterateValidPaths(0)], rows);
      assert.deepEqual([...db.iterateValidPaths(ids.at(-1)!)], []);
    });

    it('streams every valid path with the fields nix path-info --json reports', function () {
      const rows = [...db.iterateValidPaths()];
      assert.deepEqual(rows.map((r) => r.path).sort(), [...infos.keys()].sort());
      assert.equal(db.countValidPaths(), infos.size);
      assert.ok(infos.size >= 8, `fixture has ${infos.size} paths`);
      for (const row of rows) {
        const info = infos.get(row.path) as NixPathInfo;
        assert.deepEqual(parseNarHash(row.narHash), parseNarHash(info.narHash), row.path);
        assert.match(row.narHash, /^sha256:[0-9a-f]{64}$/);
        assert.equal(row.narSize, info.narSize);
        assert.equal(row.registrationTime, info.registrationTime);
        assert.equal(row.deriver, info.deriver);
        assert.equal(row.ca, info.ca);
        assert.equal(row.ultimate, info.ultimate ?? false);
        assert.deepEqual(row.sigs, info.signatures ?? []);
        assert.deepEqual(db.queryPathInfo(row.path)?.references, [...info.references].sort());
      }
      assert.ok(rows.some((r) => r.deriver !== undefined) && rows.some((r) => r.ca !== undefined) && rows.some((r) => r.ultimate));
    });

    it('agrees with nix-store --query --references, --referrers and --hash for every path', function () {
      for (const storePath of infos.keys()) {
        assert.deepEqual(db.queryReferences(storePath), nixQuery(store.root, '--references', storePath).sort(), storePath);
        assert.deepEqual(db.queryReferrers(storePath), nixQuery(store.root, '--referrers', storePath).sort(), storePath);
        const [nixHash] = nixQuery(store.root, '--hash', storePath);
        assert.deepEqual(parseNarHash(db.queryPathInfo(storePath)?.narHash ?? ''), parseNarHash(nixHash ?? ''));
      }
      // The fixture's shapes are there: a self-reference and a chain.
      assert.ok(db.queryReferences(store.outputs.selfref)?.includes(store.outputs.selfref));
      assert.ok(db.queryReferrers(store.outputs.liba)?.includes(store.outputs.tool));
    });

    it('returns undefined for a path that is not registered', function () {
      const missing = '/nix/store/00000000000000000000000000000000-missing';
      assert.equal(db.isValidPath(missing), false);
      assert.equal(db.queryPathInfo(missing), undefined);
      assert.equal(db.queryReferences(missing), undefined);
      assert.equal(db.queryReferrers(missing), undefined);
      assert.equal(db.isValidPath(store.added), true);
    });

    it('streams all reference edges, by path and by id, matching the per-path queries', function () {
      const expected = [...infos.values()].flatMap((info) => info.references.map((reference) => `${info.path} ${reference}`)).sort();
      assert.deepEqual([...db.iterateReferences()].map((e) => `${e.referrer} ${e.reference}`).sort(), expected);
      const pathOfId = new Map([...db.iterateValidPaths()].map((row) => [row.id, row.path]));
      const batches = [...db.iterateReferenceIds(2)];
      assert.ok(batches.length >= 2, 'small batches split the edges');
      assert.ok(batches.every((batch) => batch.length <= 4 && batch.length % 2 === 0));
      const byId: string[] = [];
      for (const batch of batches) for (let k = 0; k < batch.length; k += 2) byId.push(`${pathOfId.get(batch[k]!)} ${pathOfId.get(batch[k + 1]!)}`);
      assert.deepEqual(byId.sort(), expected);
    });

    it('finds a path from its hash part, and nothing from a neighbouring hash part', function () {
      for (const storePath of infos.keys()) assert.equal(db.queryPathFromHashPart(path.basename(storePath).slice(0, 32)), storePath);
      const hashPart = path.basename(store.added).slice(0, 32);
      // Same prefix, last digit lowered (or raised): sorts next to a valid path but is not its hash part.
      const neighbour = hashPart.slice(0, 31) + (hashPart[31] === '0' ? '1' : '0');
      assert.equal(db.queryPathFromHashPart(neighbour), undefined);
      assert.equal(db.queryPathFromHashPart('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'), undefined);
      for (const bad of ['short', `${hashPart}x`, hashPart.slice(0, 31) + 'e']) expectNixDbError(() => db.queryPathFromHashPart(bad), 'NIX_DB_BAD_HASH_PART');
    });

    it('keeps working after an iteration stopped early, and several iterations can interleave', function () {
      for (const row of db.iterateValidPaths()) {
        assert.ok(row.id > 0);
        break;
      }
      const outer = db.iterateValidPaths();
      const first = outer.next();
      const inner = [...db.iterateValidPaths()];
      assert.equal(first.done, false);
      assert.equal([...outer].length + 1, inner.length);
      assert.equal(db.countValidPaths(), inner.length);
    });

    it('reports no realisations when the CA tables are absent', function () {
      assert.deepEqual(db.tables, { realisations: false, buildTrace: false });
      assert.deepEqual(db.queryRealisations(), []);
    });
  });

  describe('realisations', function () {
    it('reads the Realisations row of a CA derivation built with ca-derivations', function () {
      this.timeout(120_000);
      const root = path.join(tmp, 'ca-root');
      const work = path.join(tmp, 'ca-work');
      fs.mkdirSync(path.join(work, 'bbdir'), { recursive: true });
      fs.copyFileSync(busyboxPath(), path.join(work, 'bbdir', 'busybox'));
      fs.writeFileSync(
        path.join(work, 'ca.nix'),
        `
        let bb = builtins.path { path = ./bbdir; name = "busybox"; };
        in derivation {
          name = "ca-out"; system = builtins.currentSystem; builder = "\${bb}/busybox";
          args = [ "sh" "-c" "echo hello > $out" ];
          __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256";
        }`,
      );
      const features = ['--extra-experimental-features', 'nix-command ca-derivations'];
      const output = runNix('nix-build', [...features, '--store', root, path.join(work, 'ca.nix'), '--no-out-link']).trim();
      const nixInfo = JSON.parse(runNix('nix', [...features, 'realisation', 'info', '--store', root, '--json', '-f', path.join(work, 'ca.nix')])) as {
        id: string;
        outPath: string;
      }[];
      const db = openNixDb(path.join(root, 'nix', 'var', 'nix', 'db', 'db.sqlite'), { immutable: true });
      try {
        assert.equal(db.tables.realisations, true);
        const realisations = db.queryRealisations();
        assert.equal(realisations.length, 1);
        const [ours] = realisations;
        assert.equal(ours?.table, 'Realisations');
        assert.equal(ours?.outputPath, output);
        assert.equal(`${ours?.drvPath}!${ours?.outputName}`, nixInfo[0]?.id);
        assert.equal(path.basename(ours?.outputPath ?? ''), nixInfo[0]?.outPath);
        assert.deepEqual(ours?.signatures, []);
      } finally {
        db.close();
      }
    });

    it('reads BuildTraceV3 rows as later Nix writes them', function () {
      const file = copyDb(dbDir, tmp, 'build-trace');
      const writer = new DatabaseSync(file);
      writer.exec(`create table BuildTraceV3 (id integer primary key autoincrement not null, drvPath text not null, outputName text not null, outputPath text not null, signatures text);
        insert into BuildTraceV3 (drvPath, outputName, outputPath, signatures) values ('aaaa-x.drv', 'out', 'bbbb-x', 'k1:s1 k2:s2');`);
      writer.close();
      const db = openNixDb(file);
      try {
        assert.deepEqual(db.tables, { realisations: false, buildTrace: true });
        assert.deepEqual(db.queryRealisations(), [
          { table: 'BuildTraceV3', drvPath: 'aaaa-x.drv', outputName: 'out', outputPath: 'bbbb-x', signatures: ['k1:s1', 'k2:s2'] },
        ]);
      } finally {
        db.close();
      }
    });
  });

  describe('never writes', function () {
    it('immutable: every read leaves the DB bytes and mtime alone and creates no -wal or -shm', function () {
      const file = copyDb(dbDir, tmp, 'immutable');
      const before = snapshot(file);
      const db = openNixDb(file, { immutable: true });
      assert.equal(readEverything(db), infos.size);
      db.close();
      db.close();
      assert.deepEqual(snapshot(file), before);
    });

    it('not immutable, no -wal: read as a snapshot, DB bytes and mtime unchanged and no -wal or -shm made in a writable dir', function () {
      const file = copyDb(dbDir, tmp, 'read-only');
      const before = snapshot(file);
      const db = openNixDb(file);
      assert.equal(db.mode, 'snapshot');
      assert.equal(readEverything(db), infos.size);
      db.assertUnchanged('reading everything');
      db.close();
      assert.deepEqual(snapshot(file), before);
    });

    describe('as another user, in a directory it cannot write', function () {
      before(function () {
        requireRoot(this);
        requireCommand(this, 'setpriv');
      });

      it('without -wal/-shm: reads the DB as immutable and creates nothing', function () {
        const file = copyDb(dbDir, tmp, 'nobody-clean');
        const before = snapshot(file);
        assert.deepEqual(readAsNobody(file), { mode: 'snapshot', count: infos.size });
        assert.deepEqual(readAsNobody(file, { immutable: true }), { mode: 'immutable', count: infos.size });
        assert.deepEqual(snapshot(file), before);
      });

      it('with a crashed writer’s -wal and -shm: reads the WAL frames too, changing nothing', function () {
        const file = copyDb(dbDir, tmp, 'nobody-wal');
        crashWriterAfterInsert(file, '/nix/store/00000000000000000000000000000000-from-wal');
        const before = snapshot(file);
        const walBefore = snapshot(`${file}-wal`);
        assert.deepEqual(before.siblings, ['db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal', 'schema']);
        assert.deepEqual(readAsNobody(file), { mode: 'read-only', count: infos.size + 1 });
        // Immutable ignores the WAL, as it must: only the DB file counts.
        assert.deepEqual(readAsNobody(file, { immutable: true }), { mode: 'immutable', count: infos.size });
        assert.deepEqual(snapshot(file), before);
        assert.equal(snapshot(`${file}-wal`).sha256, walBefore.sha256);
      });

      it('with WAL frames but no -shm: NIX_DB_WAL_UNREADABLE rather than a stale read', function () {
        const file = copyDb(dbDir, tmp, 'nobody-wal-no-shm');
        crashWriterAfterInsert(file, '/nix/store/00000000000000000000000000000000-from-wal');
        fs.rmSync(`${file}-shm`);
        assert.equal(readAsNobody(file).code, 'NIX_DB_WAL_UNREADABLE');
        assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), ['db.sqlite', 'db.sqlite-wal', 'schema']);
      });
    });

    it('opens a DB whose directory name needs %-escaping in a file: URI', function () {
      const file = copyDb(dbDir, tmp, 'odd dir ?#%20 é');
      for (const immutable of [true, false]) {
        const db = openNixDb(file, { immutable });
        assert.equal(db.countValidPaths(), infos.size);
        db.close();
      }
      assert.deepEqual(
        fs.readdirSync(tmp).filter((name) => name.startsWith('odd')),
        ['odd dir ?#%20 é'],
      );
    });
  });

  describe('errors', function () {
    it('NIX_DB_MISSING for a DB that does not exist', function () {
      const file = path.join(tmp, 'nowhere', 'db.sqlite');
      const error = expectNixDbError(() => openNixDb(file), 'NIX_DB_MISSING', file);
      assert.ok(error.hint);
    });

    it('NIX_DB_NOT_SQLITE for a file that is not SQLite, or not a file', function () {
      const dir = path.join(tmp, 'not-sqlite');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'schema'), '10');
      fs.writeFileSync(path.join(dir, 'db.sqlite'), 'this is not a database, just some text that is long enough '.repeat(20));
      expectNixDbError(() => openNixDb(path.join(dir, 'db.sqlite')), 'NIX_DB_NOT_SQLITE', path.join(dir, 'db.sqlite'));
      expectNixDbError(() => openNixDb(path.join(dir, 'db.sqlite'), { immutable: true }), 'NIX_DB_NOT_SQLITE');
      expectNixDbError(() => openNixDb(dir), 'NIX_DB_NOT_SQLITE', dir);
    });

    it('NIX_DB_NOT_NIX for an SQLite DB without ValidPaths, or without a ValidPaths column', function () {
      const dir = path.join(tmp, 'not-nix');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'schema'), '10');
      const other = new DatabaseSync(path.join(dir, 'db.sqlite'));
      other.exec('create table Foo (x integer)');
      other.close();
      const error = expectNixDbError(() => openNixDb(path.join(dir, 'db.sqlite')), 'NIX_DB_NOT_NIX');
      assert.deepEqual(error.evidence['missingTables'], ['ValidPaths', 'Refs']);

      const old = copyDb(dbDir, tmp, 'no-ca-column');
      const writer = new DatabaseSync(old);
      writer.exec('alter table ValidPaths drop column ca');
      writer.close();
      assert.deepEqual(expectNixDbError(() => openNixDb(old), 'NIX_DB_NOT_NIX').evidence['missingColumns'], ['ca']);
    });

    it('waits out a lock within the busy timeout: an open begun while another process holds it succeeds once it lets go', async function () {
      const file = copyDb(dbDir, tmp, 'briefly-locked');
      // The holder lets go once it sees this process's main thread asleep (the reader's wait between tries, a futex):
      // the open has met the lock and is waiting, which no clock could tell.
      const script = `
        import { DatabaseSync } from 'node:sqlite';
        import fs from 'node:fs';
        const db = new DatabaseSync(${JSON.stringify(file)});
        db.prepare('select count(*) from ValidPaths').get();
        db.exec("pragma locking_mode = exclusive; begin exclusive; insert into ValidPaths (path, hash, registrationTime) values ('x', 'y', 1);");
        console.log('locked');
        const pause = new Int32Array(new SharedArrayBuffer(4));
        let waiting = false;
        for (let i = 0; i < 6000 && !waiting; i++) {
          waiting = /nanosleep|futex/.test(fs.readFileSync('/proc/${process.pid}/wchan', 'utf8'));
          if (!waiting) Atomics.wait(pause, 0, 0, 5);
        }
        db.exec('rollback');
        db.close();
        process.exitCode = waiting ? 0 : 3;`;
      const holder = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          holder.stdout.on('data', (chunk: Buffer) => String(chunk).includes('locked') && resolve());
          holder.once('exit', (code) => reject(new Error(`the lock holder exited (${String(code)}) before locking`)));
        });
        assert.deepEqual(snapshot(file).siblings, ['db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal', 'schema'], 'the holder, a WAL reader first, made them');
        const db = openNixDb(file, { busyTimeoutMs: 60_000 });

        try {
          assert.equal(db.countValidPaths(), infos.size, "the holder's uncommitted row never happened");
        } finally {
          db.close();
        }
        assert.equal(await exited, 0, 'the holder saw the open waiting (exit 3: it never did)');
        // The holder, the last connection, deleted its -wal and -shm as it closed; the waiting reader made none again.
        assert.deepEqual(snapshot(file).siblings, ['db.sqlite', 'schema']);
      } finally {
        holder.kill('SIGKILL');
      }
    });

    it('NIX_DB_LOCKED when another process holds an exclusive lock past the busy timeout', function () {
      const file = copyDb(dbDir, tmp, 'locked');
      const holder = new DatabaseSync(file);
      try {
        // A reader first, as Nix is (its -wal and -shm appear), then the whole DB locked, as no reader can wait out.
        holder.prepare('select count(*) from ValidPaths').get();
        holder.exec("pragma locking_mode = exclusive; begin exclusive; insert into ValidPaths (path, hash, registrationTime) values ('x', 'y', 1);");
        assert.deepEqual(snapshot(file).siblings, ['db.sqlite', 'db.sqlite-shm', 'db.sqlite-wal', 'schema']);
        const error = expectNixDbError(() => openNixDb(file, { busyTimeoutMs: 200 }), 'NIX_DB_LOCKED', file);
        assert.ok(error.hint);
      } finally {
        holder.close();
      }
      // Released: the same open now works, and the holder's uncommitted row never happened.
      const db = openNixDb(file, { busyTimeoutMs: 200 });
      assert.equal(db.countValidPaths(), infos.size);
      db.close();
    });

    it('schema file: NIX_DB_SCHEMA_UNREADABLE, NIX_DB_SCHEMA_INVALID, NIX_DB_SCHEMA_UNSUPPORTED (older and newer)', function () {
      const file = copyDb(dbDir, tmp, 'schema');
      const schema = path.join(path.dirname(file), 'schema');
      fs.rmSync(schema);
      expectNixDbError(() => openNixDb(file), 'NIX_DB_SCHEMA_UNREADABLE', schema);
      fs.writeFileSync(schema, 'ten');
      expectNixDbError(() => openNixDb(file), 'NIX_DB_SCHEMA_INVALID', schema);
      for (const version of [NIX_SCHEMA_VERSION - 3, NIX_SCHEMA_VERSION + 1]) {
        fs.writeFileSync(schema, String(version));
        const error = expectNixDbError(() => openNixDb(file), 'NIX_DB_SCHEMA_UNSUPPORTED', schema);
        assert.equal(error.evidence['found'], version);
        assert.equal(error.evidence['supported'], NIX_SCHEMA_VERSION);
      }
      fs.writeFileSync(schema, `${NIX_SCHEMA_VERSION}\n`);
      openNixDb(file).close();
      // An explicit schema file wins over the one beside the DB.
      const elsewhere = path.join(tmp, 'schema-elsewhere');
      fs.writeFileSync(elsewhere, '11');
      expectNixDbError(() => openNixDb(file, { schemaFile: elsewhere }), 'NIX_DB_SCHEMA_UNSUPPORTED', elsewhere);
    });

    it('NIX_DB_BAD_ROW for a row Nix could not have written', function () {
      const file = copyDb(dbDir, tmp, 'bad-row');
      const writer = new DatabaseSync(file);
      writer.prepare("update ValidPaths set narSize = 'huge' where path = ?").run(store.added);
      writer.close();
      const db = openNixDb(file);
      try {
        const error = expectNixDbError(() => [...db.iterateValidPaths()], 'NIX_DB_BAD_ROW', file);
        assert.equal(error.evidence['column'], 'narSize');
        assert.equal(error.evidence['value'], 'huge');
        expectNixDbError(() => db.queryPathInfo(store.added), 'NIX_DB_BAD_ROW');
        // Other rows still read.
        assert.ok(db.queryPathInfo(store.outputs.tool));
      } finally {
        db.close();
      }
    });

    it('NIX_DB_CLOSED after close, also for an iteration in progress', function () {
      const db = openNixDb(copyDb(dbDir, tmp, 'closed'));
      const rows = db.iterateValidPaths();
      rows.next();
      db.close();
      expectNixDbError(() => rows.next(), 'NIX_DB_CLOSED');
      expectNixDbError(() => db.countValidPaths(), 'NIX_DB_CLOSED');
      expectNixDbError(() => [...db.iterateReferences()], 'NIX_DB_CLOSED');
      db.close();
    });

    it('NIX_DB_BAD_OPTION naming the option', function () {
      const file = path.join(dbDir, 'db.sqlite');
      assert.equal(expectNixDbError(() => openNixDb(file, { busyTimeoutMs: -1 }), 'NIX_DB_BAD_OPTION').evidence['option'], 'busyTimeoutMs');
      assert.equal(expectNixDbError(() => openNixDb(file, { storeDir: 'nix/store' }), 'NIX_DB_BAD_OPTION').evidence['option'], 'storeDir');
      const db = openNixDb(copyDb(dbDir, tmp, 'bad-option'), { immutable: true });
      assert.equal(expectNixDbError(() => db.iterateReferenceIds(0).next(), 'NIX_DB_BAD_OPTION').evidence['option'], 'batchEdges');
      db.close();
    });
  });
});
