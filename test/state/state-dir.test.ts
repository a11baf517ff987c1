import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareStateDir, StateFileError, type StateFileErrorCode } from '../../agent/state/index.ts';
import { runScriptAsNobody } from '../support/as-nobody.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireCommand, requireMountNamespaces, requireRoot } from '../support/requirements.ts';

const NOBODY = 65534;
const STATE_MODULE = new URL('../../agent/state/index.ts', import.meta.url).pathname;

/** The code prepareStateDir refuses `dir` with, or 'ok'. */
function verdict(dir: string): 'ok' | StateFileErrorCode {
  try {
    prepareStateDir(dir);
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof StateFileError, String(error));
    return error.code;
  }
}

/** prepareStateDir's error (code, message, hint) as seen by a script run elsewhere (as nobody, in a namespace). */
const REPORT_SCRIPT = (dir: string): string => `
  import { prepareStateDir } from ${JSON.stringify(STATE_MODULE)};
  try { prepareStateDir(${JSON.stringify(dir)}); console.log(JSON.stringify({ code: 'ok' })); }
  catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }`;

describe('state/state-dir: refused at start unless a trusted, writable directory', function () {
  let base: string;
  before(function () {
    requireRoot(this);
  });
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-state-dir-'));
    fs.chmodSync(base, 0o755);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  function dir(name: string, mode: number, uid = 0): string {
    const made = path.join(base, name);
    fs.mkdirSync(made);
    fs.chmodSync(made, mode);
    fs.chownSync(made, uid, uid);
    return made;
  }

  it('creates a missing state dir and its parents, mode 0700, and leaves nothing in it', () => {
    const state = path.join(base, 'var', 'lib', 'overlay-warden');
    assert.equal(verdict(state), 'ok');
    assert.equal(fs.statSync(state).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(base, 'var')).mode & 0o077, 0);
    assert.deepEqual(fs.readdirSync(state), []);
    assert.equal(verdict(state), 'ok', 'an existing one');
  });

  const rows: readonly { name: string; setUp: () => string; code: 'ok' | StateFileErrorCode }[] = [
    { name: 'root’s, mode 0755', setUp: () => dir('state', 0o755), code: 'ok' },
    {
      name: 'root’s symlink to root’s directory',
      setUp: () => (fs.symlinkSync(dir('real', 0o700), path.join(base, 'state')), path.join(base, 'state')),
      code: 'ok',
    },
    { name: 'a regular file', setUp: () => (fs.writeFileSync(path.join(base, 'state'), ''), path.join(base, 'state')), code: 'STATE_DIR_NOT_DIRECTORY' },
    { name: 'below a regular file', setUp: () => (fs.writeFileSync(path.join(base, 'f'), ''), path.join(base, 'f', 'state')), code: 'STATE_DIR_NOT_DIRECTORY' },
    { name: 'owned by uid 65534', setUp: () => dir('state', 0o700, NOBODY), code: 'STATE_DIR_UNTRUSTED' },
    { name: 'world-writable (0777)', setUp: () => dir('state', 0o777), code: 'STATE_DIR_UNTRUSTED' },
    { name: 'world-writable and sticky (1777): others could still plant names', setUp: () => dir('state', 0o1777), code: 'STATE_DIR_UNTRUSTED' },
    { name: 'group-writable (0770)', setUp: () => dir('state', 0o770), code: 'STATE_DIR_UNTRUSTED' },
    {
      name: 'root’s, inside a directory uid 65534 owns',
      setUp: () => (dir('theirs', 0o755, NOBODY), dir('theirs/state', 0o700)),
      code: 'STATE_DIR_UNTRUSTED',
    },
  ];
  for (const row of rows) {
    it(`${row.name}: ${row.code}`, () => {
      assert.equal(verdict(row.setUp()), row.code);
    });
  }

  it('says what to do: the component to fix, or the setting that moves the state dir', () => {
    const theirs = dir('theirs', 0o700, NOBODY);
    const error = (() => {
      try {
        prepareStateDir(theirs);
      } catch (e) {
        return e as StateFileError;
      }
      assert.fail('accepted');
    })();
    assert.match(error.message, new RegExp(`^refusing state dir ${theirs}: the directory ${theirs} is owned by uid 65534`));
    assert.match(error.hint ?? '', /chown root .*stateDir in the configuration, --state-dir or OVERLAY_WARDEN_STATE_DIR/);
    assert.equal(error.evidence['dir'], theirs);
  });

  it('not writable: on a read-only filesystem (even for root)', function () {
    requireMountNamespaces(this);
    const state = dir('state', 0o700);
    const run = runInFreshNamespace([
      'sh',
      '-c',
      'mount -t tmpfs -o ro,mode=0700 ow-ro "$1" && exec "$2" --input-type=module -e "$3"',
      'sh',
      state,
      process.execPath,
      REPORT_SCRIPT(state),
    ]);
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as { code: string; message: string; hint: string };
    assert.equal(seen.code, 'STATE_DIR_NOT_WRITABLE');
    assert.match(seen.message, /EROFS/);
    assert.match(seen.hint, /writable filesystem/);
  });

  it('not writable: root’s directory, for an agent running as another user', function () {
    requireCommand(this, 'setpriv');
    const state = dir('state', 0o755);
    const run = runScriptAsNobody(REPORT_SCRIPT(state));
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as { code: string }).code, 'STATE_DIR_NOT_WRITABLE');
  });
});
