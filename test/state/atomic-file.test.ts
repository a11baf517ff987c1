import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readJsonStateFile, readStateFile, StateFileError, writeFileAtomic } from '../../agent/state/atomic-file.ts';
import { requireMountNamespaces } from '../support/requirements.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';

/** This process's umask, read without changing it (process.umask() with no argument is deprecated). */
const UMASK = Number.parseInt(/^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '022', 8);
/** The temp file name the module used to give (pid-based, so predictable): what an attacker would plant a symlink at. */
const predictableTempOf = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
/** Temp files of writes (`.NAME.<random>.tmp`). */
const tempFilesIn = (dir: string): string[] => fs.readdirSync(dir).filter((e) => /^\..*\.[0-9a-f]{16}\.tmp$/.test(e));
const modeOf = (file: string): number => fs.statSync(file).mode & 0o7777;
const entries = (dir: string): string[] => fs.readdirSync(dir).sort();

/** Asserts that `action` throws StateFileError `code`, and returns it. */
function stateError(action: () => unknown, code: StateFileError['code']): StateFileError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof StateFileError, `not a StateFileError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`no ${code} thrown`);
}

/** 8 MiB of bytes that differ from chunk to chunk, in 64 KiB chunks. */
const BIG = Array.from({ length: 128 }, (_, i) => Buffer.alloc(64 * 1024, i));

describe('state/atomic-file', () => {
  let root: string;
  let dir: string;
  let n = 0;
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-atomic-'))));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    dir = path.join(root, String(++n));
    fs.mkdirSync(dir, { mode: 0o700 });
  });

  describe('writeFileAtomic: what exists after a write', () => {
    const rows: readonly { name: string; data: () => string | Uint8Array | Iterable<Uint8Array>; bytes: Buffer }[] = [
      { name: 'a string, as UTF-8', data: () => '{"v":1,"note":"é € 😀"}\n', bytes: Buffer.from('{"v":1,"note":"é € 😀"}\n') },
      { name: 'an empty string (an empty file, not no file)', data: () => '', bytes: Buffer.alloc(0) },
      { name: 'bytes', data: () => new Uint8Array([0, 1, 2, 255]), bytes: Buffer.from([0, 1, 2, 255]) },
      {
        name: 'chunks in an array, in order',
        data: () => [Buffer.from('one,'), new Uint8Array(), Buffer.from('two,'), Buffer.from('three')],
        bytes: Buffer.from('one,two,three'),
      },
      {
        name: 'chunks from a generator',
        data: function* () {
          for (const word of ['a', 'b', 'c']) yield Buffer.from(word);
        },
        bytes: Buffer.from('abc'),
      },
      { name: 'an empty iterable (an empty file)', data: () => [], bytes: Buffer.alloc(0) },
      { name: '8 MiB in 128 chunks', data: () => BIG, bytes: Buffer.concat(BIG) },
    ];
    for (const row of rows) {
      it(`${row.name}: exactly those bytes, mode 0600, no temp file left`, () => {
        const file = path.join(dir, 'state.json');
        writeFileAtomic(file, row.data());
        assert.ok(fs.readFileSync(file).equals(row.bytes));
        assert.equal(modeOf(file), 0o600 & ~UMASK);
        assert.deepEqual(entries(dir), ['state.json']);
      });
    }

    it('with the mode asked for', () => {
      const file = path.join(dir, 'shared.json');
      writeFileAtomic(file, 'x', 0o640);
      assert.equal(modeOf(file), 0o640 & ~UMASK);
    });

    it('a reader sees the old contents until the last chunk is written, then the new ones whole', () => {
      const file = path.join(dir, 'state.json');
      writeFileAtomic(file, 'old');
      const seen: string[] = [];
      writeFileAtomic(
        file,
        (function* () {
          for (const part of ['n', 'e', 'w']) {
            seen.push(fs.readFileSync(file, 'utf8'));
            yield Buffer.from(part);
          }
          seen.push(fs.readFileSync(file, 'utf8'));
        })(),
      );
      assert.deepEqual(seen, ['old', 'old', 'old', 'old']);
      assert.equal(fs.readFileSync(file, 'utf8'), 'new');
    });
  });

  describe('writeFileAtomic: overwriting', () => {
    it('replaces the file with a new one: a reader holding the old one still reads the old contents', () => {
      const file = path.join(dir, 'state.json');
      writeFileAtomic(file, 'first version');
      const oldIno = fs.statSync(file).ino;
      const fd = fs.openSync(file, 'r');
      try {
        writeFileAtomic(file, 'second');
        assert.equal(fs.readFileSync(file, 'utf8'), 'second');
        assert.notEqual(fs.statSync(file).ino, oldIno);
        assert.equal(fs.readFileSync(fd, 'utf8'), 'first version');
      } finally {
        fs.closeSync(fd);
      }
    });

    it('gives the new file its own mode, not the old file’s', () => {
      const file = path.join(dir, 'state.json');
      fs.writeFileSync(file, 'old', { mode: 0o666 });
      fs.chmodSync(file, 0o666);
      writeFileAtomic(file, 'new');
      assert.equal(modeOf(file), 0o600 & ~UMASK);
    });

    it('leaves a hard link to the old file with the old contents', () => {
      const file = path.join(dir, 'state.json');
      writeFileAtomic(file, 'old');
      fs.linkSync(file, path.join(dir, 'link'));
      writeFileAtomic(file, 'new');
      assert.equal(fs.readFileSync(path.join(dir, 'link'), 'utf8'), 'old');
    });

    it('replaces a symlink at the path itself, leaving what it pointed to alone', () => {
      const file = path.join(dir, 'state.json');
      fs.writeFileSync(path.join(dir, 'elsewhere'), 'untouched');
      fs.symlinkSync('elsewhere', file);
      writeFileAtomic(file, 'new');
      assert.equal(fs.lstatSync(file).isFile(), true);
      assert.equal(fs.readFileSync(file, 'utf8'), 'new');
      assert.equal(fs.readFileSync(path.join(dir, 'elsewhere'), 'utf8'), 'untouched');
    });

    it('writes through nothing planted under the old predictable temp name: a leftover file and a symlink stay as they are', () => {
      const file = path.join(dir, 'state.json');
      const victim = path.join(root, `victim-${n}`);
      fs.writeFileSync(victim, 'not to be overwritten');
      fs.symlinkSync(victim, predictableTempOf(file));
      fs.writeFileSync(path.join(dir, '.other.json.1.tmp'), 'half-written junk a killed write left');
      writeFileAtomic(file, 'new');
      assert.equal(fs.readFileSync(file, 'utf8'), 'new');
      assert.equal(fs.readFileSync(victim, 'utf8'), 'not to be overwritten');
      assert.deepEqual(entries(dir), ['.other.json.1.tmp', path.basename(predictableTempOf(file)), 'state.json'].sort());
    });
  });

  describe('writeFileAtomic: the directory', () => {
    for (const parts of [['state'], ['var', 'lib', 'overlay-warden']]) {
      it(`creates ${parts.length === 1 ? 'a missing directory' : 'missing directories three deep'} with mode 0700`, () => {
        const target = path.join(dir, ...parts);
        writeFileAtomic(path.join(target, 'state.json'), 'x');
        assert.equal(fs.readFileSync(path.join(target, 'state.json'), 'utf8'), 'x');
        for (let i = 1; i <= parts.length; i++) assert.equal(modeOf(path.join(dir, ...parts.slice(0, i))), 0o700 & ~UMASK, parts.slice(0, i).join('/'));
      });
    }

    it('leaves the mode of a directory that exists alone', () => {
      fs.chmodSync(dir, 0o755);
      writeFileAtomic(path.join(dir, 'state.json'), 'x');
      assert.equal(modeOf(dir), 0o755);
    });
  });

  describe('writeFileAtomic: failures keep the previous contents and leave no temp file', () => {
    const rows: readonly {
      name: string;
      setUp: (dir: string) => { file: string; data?: string | Iterable<Uint8Array> };
      errno: string | undefined;
      kept: Record<string, string>;
    }[] = [
      {
        name: 'the target is an empty directory (EISDIR)',
        setUp: (d) => (fs.mkdirSync(path.join(d, 'state.json')), { file: path.join(d, 'state.json') }),
        errno: 'EISDIR',
        kept: {},
      },
      {
        name: 'the target is a directory with files in it (EISDIR)',
        setUp: (d) => (
          fs.mkdirSync(path.join(d, 'state.json')),
          fs.writeFileSync(path.join(d, 'state.json', 'inside'), 'kept'),
          { file: path.join(d, 'state.json') }
        ),
        errno: 'EISDIR',
        kept: { 'state.json/inside': 'kept' },
      },
      {
        name: 'the directory is a regular file (EEXIST)',
        setUp: (d) => (fs.writeFileSync(path.join(d, 'state'), 'a file'), { file: path.join(d, 'state', 'state.json') }),
        errno: 'EEXIST',
        kept: { state: 'a file' },
      },
      {
        name: 'a directory on the way is a regular file (ENOTDIR)',
        setUp: (d) => (fs.writeFileSync(path.join(d, 'state'), 'a file'), { file: path.join(d, 'state', 'sub', 'state.json') }),
        errno: 'ENOTDIR',
        kept: { state: 'a file' },
      },
      {
        name: 'the data source throws after the first chunk (no errno)',
        setUp: (d) => {
          fs.writeFileSync(path.join(d, 'state.json'), 'previous');
          const data = (function* () {
            yield Buffer.from('partial');
            throw new Error('the producer failed');
          })();
          return { file: path.join(d, 'state.json'), data };
        },
        errno: undefined,
        kept: { 'state.json': 'previous' },
      },
    ];
    for (const row of rows) {
      it(`${row.name}: STATE_WRITE_FAILED with the errno`, () => {
        const { file, data } = row.setUp(dir);
        const before = entries(dir);
        const error = stateError(() => writeFileAtomic(file, data ?? 'new contents'), 'STATE_WRITE_FAILED');
        assert.deepEqual(error.evidence, { file, errno: row.errno });
        assert.ok(error.cause !== undefined);
        assert.match(error.message, new RegExp(`^cannot write state file ${file}: `));
        assert.deepEqual(entries(dir), before, 'no temp file left');
        for (const [name, text] of Object.entries(row.kept)) assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), text, name);
      });
    }

    it('the disk is full (ENOSPC, a 64 KiB tmpfs): STATE_WRITE_FAILED with the errno, free space as the fix, the previous contents kept', function () {
      requireMountNamespaces(this);
      // The write runs in a private mount namespace holding the tmpfs, and reports what it saw as JSON.
      const script = `
        import fs from 'node:fs';
        import { writeFileAtomic } from ${JSON.stringify(new URL('../../agent/state/atomic-file.ts', import.meta.url).pathname)};
        const file = process.argv[1] + '/state.json';
        writeFileAtomic(file, 'previous');
        let error;
        try { writeFileAtomic(file, Buffer.alloc(1 << 20, 1)); } catch (e) { error = e; }
        console.log(JSON.stringify({ code: error?.code, evidence: error?.evidence, hint: error?.hint, message: error?.message,
          kept: fs.readFileSync(file, 'utf8'), entries: fs.readdirSync(process.argv[1]) }));`;
      const mountAndRun = 'mount -t tmpfs -o size=64k,mode=0700 ow-full "$1" && exec "$2" --input-type=module -e "$3" "$1"';
      const run = runInFreshNamespace(['sh', '-c', mountAndRun, 'sh', dir, process.execPath, script]);
      assert.equal(run.status, 0, run.stderr);
      const seen = JSON.parse(run.stdout) as { code: string; evidence: object; hint: string; message: string; kept: string; entries: string[] };
      assert.equal(seen.code, 'STATE_WRITE_FAILED', seen.message);
      assert.deepEqual(seen.evidence, { file: path.join(dir, 'state.json'), errno: 'ENOSPC' });
      assert.match(seen.hint, /^free space on the filesystem of .*; the previous state is kept$/);
      assert.equal(seen.kept, 'previous');
      assert.deepEqual(seen.entries, ['state.json'], 'no temp file left');
    });

    it('names the directory’s permissions as the fix otherwise', () => {
      fs.mkdirSync(path.join(dir, 'dir.json'));
      assert.equal(stateError(() => writeFileAtomic(path.join(dir, 'dir.json'), 'x'), 'STATE_WRITE_FAILED').hint, `check that ${dir} is writable by the agent`);
      assert.deepEqual(tempFilesIn(dir), []);
    });
  });

  describe('readStateFile', () => {
    it('reads what was written, as UTF-8; an empty file is the empty string', () => {
      writeFileAtomic(path.join(dir, 'a'), 'é\n');
      writeFileAtomic(path.join(dir, 'empty'), '');
      assert.equal(readStateFile(path.join(dir, 'a')), 'é\n');
      assert.equal(readStateFile(path.join(dir, 'empty')), '');
    });

    it('undefined when the file does not exist, nor its directory', () => {
      assert.equal(readStateFile(path.join(dir, 'nope')), undefined);
      assert.equal(readStateFile(path.join(dir, 'no', 'such', 'dir')), undefined);
    });

    for (const [name, setUp, errno] of [
      ['a directory', (d: string) => (fs.mkdirSync(path.join(d, 'x')), path.join(d, 'x')), 'EISDIR'],
      ['a path through a regular file', (d: string) => (fs.writeFileSync(path.join(d, 'f'), ''), path.join(d, 'f', 'x')), 'ENOTDIR'],
    ] as const) {
      it(`STATE_READ_FAILED for ${name} (${errno}), naming the file`, () => {
        const file = setUp(dir);
        const error = stateError(() => readStateFile(file), 'STATE_READ_FAILED');
        assert.deepEqual(error.evidence, { file });
        assert.equal((error.cause as NodeJS.ErrnoException).code, errno);
      });
    }
  });

  describe('readJsonStateFile', () => {
    const isVersioned = (v: unknown): v is { version: number } =>
      typeof v === 'object' && v !== null && typeof (v as { version?: unknown }).version === 'number';

    it('round-trips what writeFileAtomic wrote; undefined when absent', () => {
      const file = path.join(dir, 'flag.json');
      assert.equal(readJsonStateFile(file, isVersioned), undefined);
      writeFileAtomic(file, JSON.stringify({ version: 1, reasons: ['a'] }));
      assert.deepEqual(readJsonStateFile(file, isVersioned), { version: 1, reasons: ['a'] });
    });

    for (const [name, text, message] of [
      ['an empty file (what a non-atomic writer leaves)', '', /is not valid JSON$/],
      ['a truncated document', '{"version": 1, "reas', /is not valid JSON$/],
      ['valid JSON of another shape', '{"ver": 1}', /does not have the expected shape$/],
      ['JSON null', 'null', /does not have the expected shape$/],
    ] as const) {
      it(`STATE_CORRUPT for ${name}, and the file is left in place as evidence`, () => {
        const file = path.join(dir, 'flag.json');
        fs.writeFileSync(file, text);
        const error = stateError(() => readJsonStateFile(file, isVersioned), 'STATE_CORRUPT');
        assert.match(error.message, message);
        assert.deepEqual(error.evidence, { file });
        assert.equal(fs.readFileSync(file, 'utf8'), text);
      });
    }

    it('passes a read error through as STATE_READ_FAILED', () => {
      fs.mkdirSync(path.join(dir, 'flag.json'));
      stateError(() => readJsonStateFile(path.join(dir, 'flag.json'), isVersioned), 'STATE_READ_FAILED');
    });
  });
});
