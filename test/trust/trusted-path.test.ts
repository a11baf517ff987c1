import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkTrustedFile, openTrusted, readTrustedFile, TrustError, withTrustedDirectory, type TrustPolicy } from '../../agent/trust/index.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

const AS_ROOT: TrustPolicy = { uid: 0, outsideUid: undefined };
const NOBODY = 65534;
const MAX = 1 << 20;

/** Reads `file` as the agent would, naming the outcome: its text, or the error's code (and where, for a refusal). */
function outcome(file: string, policy = AS_ROOT): string {
  try {
    return readTrustedFile(file, { what: 'test file', maxBytes: MAX, policy }).bytes.toString('utf8');
  } catch (error) {
    if (error instanceof TrustError && error.code === 'FILE_UNTRUSTED')
      return `FILE_UNTRUSTED ${String(error.evidence['role'])} ${String(error.evidence['at'])}`;
    return String((error as { code?: unknown }).code);
  }
}

describe('trust/trusted-path: files opened once, through checked directories', function () {
  let base: string;
  before(function () {
    requireRoot(this);
  });
  beforeEach(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-trusted-')));
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  const at = (...parts: string[]): string => path.join(base, ...parts);
  function dir(name: string, mode = 0o755, uid = 0): string {
    fs.mkdirSync(at(name), { recursive: true });
    fs.chmodSync(at(name), mode);
    fs.chownSync(at(name), uid, uid);
    return at(name);
  }
  function file(name: string, text: string, mode = 0o644, uid = 0): string {
    fs.writeFileSync(at(name), text);
    fs.chmodSync(at(name), mode);
    fs.chownSync(at(name), uid, uid);
    return at(name);
  }
  function link(name: string, target: string, uid = 0): string {
    fs.symlinkSync(target, at(name));
    fs.lchownSync(at(name), uid, uid);
    return at(name);
  }

  it('reads a root file through root’s directories, by an absolute or a relative path, from the checked descriptor', () => {
    dir('etc');
    file('etc/conf', 'mine');
    assert.deepEqual(readTrustedFile(at('etc/conf'), { what: 'test file', maxBytes: MAX, policy: AS_ROOT }), {
      bytes: Buffer.from('mine'),
      realPath: at('etc/conf'),
    });
    const cwd = process.cwd();
    try {
      process.chdir(base);
      assert.equal(outcome('etc/../etc/./conf'), 'mine');
    } finally {
      process.chdir(cwd);
    }
  });

  it('follows root’s symlinks (relative, absolute, chained) and returns the real path, as realpath(3) does', () => {
    dir('real/sub');
    file('real/sub/conf', 'behind links');
    dir('links');
    link('links/to-sub', '../real/sub');
    link('links/abs', at('links/to-sub'));
    link('links/conf', 'abs/conf');
    const found = readTrustedFile(at('links/conf'), { what: 'test file', maxBytes: MAX, policy: AS_ROOT });
    assert.equal(found.realPath, fs.realpathSync(at('links/conf')));
    assert.equal(found.bytes.toString(), 'behind links');
    // `..` after a symlink is the parent of its target, as for the kernel, not a lexical step back.
    file('real/sibling', 'next to sub');
    assert.equal(outcome(`${base}/links/to-sub/../sibling`), 'next to sub');
  });

  it('refuses a file, a directory on its way or a symlink followed that someone else owns, naming the component', () => {
    dir('theirs', 0o755, NOBODY);
    file('theirs/conf', 'x');
    assert.equal(outcome(at('theirs/conf')), `FILE_UNTRUSTED ancestor ${at('theirs')}`);
    dir('ours');
    file('ours/their-file', 'x', 0o644, NOBODY);
    assert.equal(outcome(at('ours/their-file')), `FILE_UNTRUSTED target ${at('ours/their-file')}`);
    file('ours/conf', 'root’s');
    link('ours/their-link', 'conf', NOBODY);
    assert.equal(outcome(at('ours/their-link')), `FILE_UNTRUSTED symlink ${at('ours/their-link')}`);
    // Root's symlink into their directory: the target's directory counts, not the link's.
    link('ours/into-theirs', at('theirs/conf'));
    assert.equal(outcome(at('ours/into-theirs')), `FILE_UNTRUSTED ancestor ${at('theirs')}`);
  });

  it('refuses what group or others can write, and a directory writable by them unless it is sticky and the entry is root’s', () => {
    dir('etc');
    file('etc/open', 'x', 0o666);
    assert.equal(outcome(at('etc/open')), `FILE_UNTRUSTED target ${at('etc/open')}`);
    dir('shared', 0o777);
    file('shared/conf', 'x');
    assert.equal(outcome(at('shared/conf')), `FILE_UNTRUSTED ancestor ${at('shared')}`);
    dir('tmp', 0o1777);
    file('tmp/root-conf', 'root’s, in a sticky dir');
    assert.equal(outcome(at('tmp/root-conf')), 'root’s, in a sticky dir');
    file('tmp/their-conf', 'x', 0o644, NOBODY);
    assert.equal(outcome(at('tmp/their-conf')), `FILE_UNTRUSTED target ${at('tmp/their-conf')}`);
    dir('tmp/their-dir', 0o755, NOBODY);
    file('tmp/their-dir/conf', 'x');
    assert.equal(outcome(at('tmp/their-dir/conf')), `FILE_UNTRUSTED ancestor ${at('tmp/their-dir')}`);
  });

  it('trusts the agent’s own user as it trusts root, and the overflow uid only inside a user namespace', () => {
    dir('agent', 0o755, 4242);
    file('agent/conf', 'the agent’s', 0o600, 4242);
    assert.equal(outcome(at('agent/conf'), { uid: 4242, outsideUid: undefined }), 'the agent’s');
    assert.equal(outcome(at('agent/conf')), `FILE_UNTRUSTED ancestor ${at('agent')}`);
    dir('outside', 0o755, NOBODY);
    file('outside/conf', 'real root’s, seen from a user namespace', 0o644, NOBODY);
    assert.equal(outcome(at('outside/conf'), { uid: 0, outsideUid: NOBODY }), 'real root’s, seen from a user namespace');
  });

  it('never opens what is not a regular file: a FIFO and a device fail at once; a directory fails with EISDIR', function () {
    requireCommand(this, 'mkfifo');
    dir('etc');
    assert.equal(spawnSync('mkfifo', [at('etc/fifo')]).status, 0);
    assert.equal(outcome(at('etc/fifo')), 'FILE_WRONG_TYPE');
    assert.equal(outcome('/dev/zero'), 'FILE_WRONG_TYPE');
    assert.equal(outcome(at('etc')), 'EISDIR');
    assert.throws(() => checkTrustedFile(at('etc'), { what: 'command', policy: AS_ROOT }), { code: 'FILE_WRONG_TYPE' });
    file('etc/conf', 'x');
    assert.throws(() => withTrustedDirectory(at('etc/conf'), { what: 'state dir', policy: AS_ROOT }, () => undefined), { code: 'FILE_WRONG_TYPE' });
  });

  it('fails a missing file with ENOENT naming the real path, and a symlink loop with ELOOP', () => {
    dir('etc');
    link('etc/here', 'there');
    link('etc/there', 'here');
    assert.equal(outcome(at('etc/here')), 'ELOOP');
    try {
      readTrustedFile(at('etc/none/conf'), { what: 'test file', maxBytes: MAX, policy: AS_ROOT });
      assert.fail('read a missing file');
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOENT');
      assert.equal((error as NodeJS.ErrnoException).path, at('etc/none'));
      assert.doesNotMatch((error as Error).message, /\/proc\/self\/fd/);
    }
  });

  it('refuses a secret that group or others can read, and a file over the cap', () => {
    dir('etc');
    file('etc/token', 'secret', 0o644);
    assert.throws(() => checkTrustedFile(at('etc/token'), { what: 'token', secret: true, policy: AS_ROOT }), /readable by group or others \(mode 0644\)/);
    fs.chmodSync(at('etc/token'), 0o600);
    assert.equal(checkTrustedFile(at('etc/token'), { what: 'token', secret: true, policy: AS_ROOT }).realPath, at('etc/token'));
    file('etc/big', 'x'.repeat(101));
    assert.throws(
      () => readTrustedFile(at('etc/big'), { what: 'test file', maxBytes: 100, policy: AS_ROOT }),
      (e) => {
        assert.ok(e instanceof TrustError && e.code === 'FILE_TOO_LARGE');
        assert.deepEqual(e.evidence, { file: at('etc/big'), size: 101, maxBytes: 100 });
        return true;
      },
    );
  });

  it('what is read is what was checked: a file renamed over the path after the open is not seen', () => {
    dir('etc');
    file('etc/conf', 'checked');
    const handle = openTrusted(at('etc/conf'), 'read', { what: 'test file', policy: AS_ROOT });
    try {
      file('etc/other', 'swapped in', 0o666, NOBODY);
      fs.renameSync(at('etc/other'), at('etc/conf'));
      assert.equal(fs.readFileSync(handle.fd, 'utf8'), 'checked');
    } finally {
      fs.closeSync(handle.fd);
    }
  });
});
