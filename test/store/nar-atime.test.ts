import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { narHashOfPathSync } from '../../agent/store/nar.ts';
import { runScriptAsNobody } from '../support/as-nobody.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

const NAR_MODULE = fileURLToPath(new URL('../../agent/store/nar.ts', import.meta.url));
/** An access time well before any file's mtime: `relatime` (and `strictatime`) update it on the next read. */
const OLD_ATIME = new Date('2020-01-01T00:00:00Z');

/** Sets `file`'s access time to OLD_ATIME, keeping its modification time. */
function ageAccessTime(file: string): void {
  fs.utimesSync(file, OLD_ATIME, fs.statSync(file).mtime);
}

const atimeOf = (file: string): number => fs.statSync(file).atimeMs;

/** The NAR hash of `target` (hex) computed by user nobody in a child process. */
function hashAsNobody(target: string): string {
  const script = `
    import { narHashOfPathSync } from ${JSON.stringify(NAR_MODULE)};
    console.log(narHashOfPathSync(${JSON.stringify(target)}).hash.toString('hex'));`;
  const result = runScriptAsNobody(script);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

describe('store/nar: reading without touching access times', function () {
  let tmp: string;
  let tree: string;
  let files: string[];

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nar-atime-'));
    fs.chmodSync(tmp, 0o755);
    tree = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(tree, 'lib'), { recursive: true });
    files = [path.join(tree, 'a.txt'), path.join(tree, 'lib', 'b.so'), path.join(tree, 'empty')];
    fs.writeFileSync(files[0]!, 'hello\n');
    fs.writeFileSync(files[1]!, Buffer.alloc(300_000, 7), { mode: 0o755 });
    fs.writeFileSync(files[2]!, '');
    for (const file of files) ageAccessTime(file);
  });

  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a plain read on this file system does update the access time (the control)', () => {
    const control = path.join(tmp, 'control');
    fs.writeFileSync(control, 'x');
    ageAccessTime(control);
    fs.readFileSync(control);
    assert.notEqual(atimeOf(control), OLD_ATIME.getTime(), `${tmp} is mounted noatime: the test below would prove nothing`);
  });

  it('hashing a tree, as its owner, leaves every file access time as it was (O_NOATIME)', () => {
    narHashOfPathSync(tree);
    for (const file of files) assert.equal(atimeOf(file), OLD_ATIME.getTime(), `${file}: access time changed`);
  });

  it('as another user, where O_NOATIME is refused (EPERM), reads anyway and gets the same hash', function () {
    requireRoot(this);
    requireCommand(this, 'setpriv');
    const asRoot = narHashOfPathSync(tree).hash.toString('hex');
    assert.equal(hashAsNobody(tree), asRoot);
    // Not the owner: the kernel updates the access time as for any reader (Nix's behaviour).
    assert.notEqual(atimeOf(files[0]!), OLD_ATIME.getTime());
  });
});
