import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { unescapeName } from '../../agent/errors/index.ts';
import { NarError } from '../../agent/store/nar-error.ts';
import { narHashOfPathSync } from '../../agent/store/nar.ts';
import { parseNarHash } from '../../agent/store/nar-hash-string.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

/** Deterministic bytes (AES-CTR keystream) so failures reproduce. */
function bytes(size: number, seed: number): Buffer {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16, 0));
  return cipher.update(Buffer.alloc(size));
}

function nixDump(target: string): Buffer {
  const result = spawnSync('nix-store', ['--dump', target], { maxBuffer: 256 << 20, env: nixEnv() });
  assert.equal(result.status, 0, result.stderr?.toString());
  return result.stdout;
}

/** `nix-hash --type sha256 --base32` of a path, as 32 bytes. */
function nixHash(target: string): Buffer {
  const result = spawnSync('nix-hash', ['--type', 'sha256', '--base32', target], { encoding: 'utf8', env: nixEnv() });
  assert.equal(result.status, 0, result.stderr);
  return parseNarHash(`sha256:${result.stdout.trim()}`);
}

/** Asserts that our hash and size are those of the NAR `nix-store --dump` writes for `target`. */
function assertHashesNixDump(target: string): void {
  const dump = nixDump(target);
  const ours = narHashOfPathSync(target);
  assert.equal(ours.hash.toString('hex'), createHash('sha256').update(dump).digest('hex'), target);
  assert.equal(ours.narSize, dump.length, target);
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Names whose bytewise order differs from localeCompare's, UTF-8 and a non-UTF-8 byte. */
const TRICKY_NAMES: (string | Buffer)[] = ['B', 'a', 'Z', '_', 'é', 'e', 'ß', '日本', 'a.b', 'a-b', 'a0', 'A', '10', '9', '.hidden', Buffer.from([0x61, 0xff])];

function buildFixture(root: string): void {
  fs.mkdirSync(path.join(root, 'a/b/c'), { recursive: true });
  fs.mkdirSync(path.join(root, 'emptydir'));
  fs.writeFileSync(path.join(root, 'a/b/c/deep'), 'deep\n');
  fs.writeFileSync(path.join(root, 'empty'), '');
  // Valid UTF-8 only, so names are read as strings: characters above U+FFFF sort after U+E000-U+FFFF in UTF-8 bytes
  // but before them in UTF-16, the one place the string comparison needs its correction.
  fs.mkdirSync(path.join(root, 'astral'));
  for (const name of ['\u{1F600}', '\uFF21', '\uE000', 'z', '\u{10000}']) fs.writeFileSync(path.join(root, 'astral', name), `${name}\n`);
  for (const [name, mode] of [
    ['exe', 0o755],
    ['owner-x-only', 0o744],
    ['group-x-only', 0o654],
    ['other-x-only', 0o641],
  ] as const) {
    fs.writeFileSync(path.join(root, name), `#!/bin/sh\necho ${name}\n`);
    fs.chmodSync(path.join(root, name), mode);
  }
  fs.symlinkSync('a/b/c/deep', path.join(root, 'rel-link'));
  fs.symlinkSync('/nix/store/00000000000000000000000000000000-dep/bin/sh', path.join(root, 'abs-link'));
  fs.symlinkSync('nowhere', path.join(root, 'dangling'));
  fs.symlinkSync('ünïcödé/日本', path.join(root, 'utf8-link'));
  fs.writeFileSync(path.join(root, 'big'), bytes(3 * 1024 * 1024 + 5, 1));
  fs.writeFileSync(path.join(root, 'exactly-1MiB'), bytes(1024 * 1024, 2));
  const names = path.join(root, 'names');
  fs.mkdirSync(names);
  TRICKY_NAMES.forEach((name, i) => fs.writeFileSync(Buffer.concat([Buffer.from(`${names}/`), Buffer.from(name)]), `file ${i}\n`));
  fs.mkdirSync(path.join(names, 'ZZ-dir'));
  fs.writeFileSync(path.join(names, 'ZZ-dir', 'x'), '');
  // Enough small files of odd sizes to cross the 1 MiB staging buffer several times mid-file.
  const many = path.join(root, 'many');
  fs.mkdirSync(many);
  for (let i = 0; i < 400; i++) fs.writeFileSync(path.join(many, `f${i}`), bytes(4000 + i * 13, i % 200));
}

describe('nar', function () {
  let tmp: string;
  let fixture: string;

  before(function () {
    requireCommand(this, 'nix-store');
    requireCommand(this, 'nix-hash');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nar-test-'));
    fixture = path.join(tmp, 'fixture');
    fs.mkdirSync(fixture);
    buildFixture(fixture);
  });

  after(() => {
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('uses names whose bytewise and locale orders differ', () => {
    const asStrings = TRICKY_NAMES.filter((n): n is string => typeof n === 'string');
    const bytewise = [...asStrings].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.notDeepEqual(
      bytewise,
      [...asStrings].sort((x, y) => x.localeCompare(y)),
    );
  });

  it('hashes the bytes nix-store --dump writes for a tree of every supported kind', () => {
    assertHashesNixDump(fixture);
  });

  it('hashes as nix-hash --type sha256 does, with narSize the NAR length', () => {
    const result = narHashOfPathSync(fixture);
    assert.deepEqual(result.hash, nixHash(fixture));
    assert.equal(result.narSize, nixDump(fixture).length);
  });

  it('serialises a root that is a file, an executable, a symlink or an empty dir as Nix does', () => {
    const cases = ['empty', 'exe', 'group-x-only', 'big', 'dangling', 'abs-link', 'emptydir', 'a'];
    for (const name of cases) {
      const target = path.join(fixture, name);
      assertHashesNixDump(target);
      assert.deepEqual(narHashOfPathSync(target).hash, nixHash(target), name);
    }
  });

  it('accepts a root given as a Buffer or with a trailing slash', () => {
    const expected = narHashOfPathSync(fixture).hash;
    assert.deepEqual(narHashOfPathSync(Buffer.from(fixture)).hash, expected);
    assert.deepEqual(narHashOfPathSync(`${fixture}/`).hash, expected);
  });

  describe('unsupported file types', function () {
    function assertNarError(target: string, code: string, fileType: string, badPath: string): void {
      assert.throws(
        () => narHashOfPathSync(target),
        (error: unknown) => error instanceof NarError && error.code === code && error.evidence['fileType'] === fileType && error.evidence['path'] === badPath,
      );
    }

    function inDir(name: string, make: (p: string) => void): { dir: string; bad: string } {
      const dir = fs.mkdtempSync(path.join(tmp, `${name}-`));
      fs.writeFileSync(path.join(dir, 'before'), 'x');
      fs.mkdirSync(path.join(dir, 'sub'));
      const bad = path.join(dir, 'sub', name);
      make(bad);
      return { dir, bad };
    }

    it('rejects a FIFO, naming it, as nix-store --dump does (and does not block on it)', () => {
      const { dir, bad } = inDir('fifo', (p) => assert.equal(spawnSync('mkfifo', [p]).status, 0));
      assertNarError(dir, 'NAR_UNSUPPORTED_FILE_TYPE', 'fifo', bad);
      assertNarError(bad, 'NAR_UNSUPPORTED_FILE_TYPE', 'fifo', bad);
      assert.notEqual(spawnSync('nix-store', ['--dump', dir], { stdio: 'ignore', env: nixEnv() }).status, 0);
    });

    it('names a FIFO under a name that is not UTF-8 escaped, so the path shown leads back to it', () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'odd-name-'));
      const oddDir = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0x0a])]);
      fs.mkdirSync(oddDir);
      // argv is UTF-8 text, so the shell's glob names the directory by its bytes.
      assert.equal(spawnSync('sh', ['-c', 'cd "$1" && for d in *; do mkfifo "$d/fifo"; done', 'sh', dir]).status, 0);
      assertNarError(dir, 'NAR_UNSUPPORTED_FILE_TYPE', 'fifo', `${dir}/\\xff\\x0a/fifo`);
      assert.ok(fs.lstatSync(unescapeName(`${dir}/\\xff\\x0a/fifo`)).isFIFO());
    });

    it('rejects a unix socket', async () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'sock-'));
      const bad = path.join(dir, 's');
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(bad, resolve));
      try {
        assertNarError(dir, 'NAR_UNSUPPORTED_FILE_TYPE', 'socket', bad);
      } finally {
        server.close();
      }
    });

    it('reports a whiteout (char device 0/0) as such, and other devices by type', function () {
      requireRoot(this);
      requireCommand(this, 'mknod');
      const whiteout = inDir('whiteout', (p) => assert.equal(spawnSync('mknod', [p, 'c', '0', '0']).status, 0));
      assertNarError(whiteout.dir, 'NAR_WHITEOUT', 'whiteout', whiteout.bad);
      const device = inDir('null', (p) => assert.equal(spawnSync('mknod', [p, 'c', '1', '3']).status, 0));
      assertNarError(device.dir, 'NAR_UNSUPPORTED_FILE_TYPE', 'character-device', device.bad);
      assert.notEqual(spawnSync('nix-store', ['--dump', whiteout.dir], { stdio: 'ignore', env: nixEnv() }).status, 0);
    });

    it('closes every file it opened when the walk ends in an error', () => {
      const { dir } = inDir('fifo-after-files', (p) => assert.equal(spawnSync('mkfifo', [p]).status, 0));
      fs.writeFileSync(path.join(dir, 'sub', 'a-file-first'), bytes(3 << 20, 3));
      const before = openFds();
      assert.throws(() => narHashOfPathSync(dir), NarError);
      assert.equal(openFds(), before);
    });

    it('reports a missing path as an I/O error with its errno', () => {
      const missing = path.join(tmp, 'missing');
      assert.throws(
        () => narHashOfPathSync(missing),
        (error: unknown) =>
          error instanceof NarError && error.code === 'NAR_IO_ERROR' && error.evidence['errno'] === 'ENOENT' && error.evidence['path'] === missing,
      );
    });
  });

  describe('random trees', function () {
    before(function () {
      requireCommand(this, 'openssl');
    });

    type Tree = { kind: 'file'; content: Uint8Array; executable: boolean } | { kind: 'link'; target: string } | { kind: 'dir'; entries: [string, Tree][] };

    const nameArb = fc
      .oneof(
        fc.constantFrom(...TRICKY_NAMES.filter((n): n is string => typeof n === 'string')),
        fc.string({ unit: fc.constantFrom(...'aBz09._-é日 '), minLength: 1, maxLength: 12 }),
      )
      .filter((n) => n !== '.' && n !== '..');
    const contentArb = fc.oneof(
      { weight: 10, arbitrary: fc.uint8Array({ maxLength: 3000 }) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.integer({ min: 1 << 20, max: (1 << 20) + 9000 }), fc.nat(255)).map(([size, seed]) => new Uint8Array(bytes(size, seed))),
      },
    );
    const { tree } = fc.letrec<{ tree: Tree; file: Tree; link: Tree; dir: Tree }>((tie) => ({
      tree: fc.oneof({ depthSize: 'small', maxDepth: 4 }, tie('file'), tie('link'), tie('dir')),
      file: fc.record({ kind: fc.constant('file' as const), content: contentArb, executable: fc.boolean() }),
      link: fc.record({ kind: fc.constant('link' as const), target: fc.string({ unit: fc.constantFrom(...'ab/.é-'), minLength: 1, maxLength: 30 }) }),
      dir: fc.record({ kind: fc.constant('dir' as const), entries: fc.uniqueArray(fc.tuple(nameArb, tie('tree')), { selector: (e) => e[0], maxLength: 6 }) }),
    }));

    function write(target: string, node: Tree): void {
      if (node.kind === 'file') {
        fs.writeFileSync(target, node.content);
        fs.chmodSync(target, node.executable ? 0o755 : 0o644);
      } else if (node.kind === 'link') fs.symlinkSync(node.target, target);
      else {
        fs.mkdirSync(target);
        for (const [name, child] of node.entries) write(path.join(target, name), child);
      }
    }

    it('hash like nix-store --dump | openssl dgst -sha256', () => {
      let run = 0;
      fc.assert(
        fc.property(tree, (node) => {
          const target = path.join(tmp, `random-${run++}`);
          write(target, node);
          const reference = spawnSync('sh', ['-c', 'nix-store --dump "$1" | openssl dgst -sha256 -r', 'sh', target], { encoding: 'utf8', env: nixEnv() });
          assert.equal(reference.status, 0, reference.stderr);
          assert.equal(narHashOfPathSync(target).hash.toString('hex'), reference.stdout.split(' ')[0]);
          fs.rmSync(target, { recursive: true, force: true });
        }),
        { numRuns: 25 },
      );
    });
  });
});
