/**
 * Files that once hung or exhausted the CLI: a FIFO (a read waits for a writer forever), /dev/zero (never ends), an
 * alias bomb, tens of thousands of unknown keys. Each now ends at once with the exit code of its kind and a message
 * naming the file. A test that hung before the fix would hit mocha's timeout; none measures time.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_MAX_BYTES, MAX_REPORTED_PROBLEMS } from '../../agent/config/index.ts';
import { runCliCaptured, runCliProcess } from '../support/cli-run.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

const STORE_URL = 'local-overlay://?root=/merged&lower-store=%2Flower&upper-layer=/upper&check-mount=false';

/** The `{ error }` a command printed with --json. */
function errorOf(stdout: string): { code: string; message: string; evidence: Record<string, unknown> } {
  return (JSON.parse(stdout) as { error: { code: string; message: string; evidence: Record<string, unknown> } }).error;
}

describe('cli: hostile files fail at once, naming the file', function () {
  let dir: string;
  let fifo: string;
  before(function () {
    requireRoot(this);
    requireCommand(this, 'mkfifo');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-hostile-'));
    fifo = path.join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    fs.writeFileSync(path.join(dir, name), text, { mode: 0o644 });
    return path.join(dir, name);
  };

  it('check --mountinfo FIFO: exit 1, the mount table reported unreadable as a FIFO', async () => {
    const run = await runCliCaptured(['check', '--json', '--store', STORE_URL, '--mountinfo', fifo]);
    assert.equal(run.code, 1, run.stderr);
    const findings = (JSON.parse(run.stdout) as { findings: { id: string; message: string }[] }).findings;
    const unreadable = findings.find((f) => f.id === 'mount.mountinfo-unreadable');
    assert.ok(unreadable !== undefined, JSON.stringify(findings.map((f) => f.id)));
    assert.match(unreadable.message, /FIFO/);
  });

  for (const [name, file] of [
    ['/dev/zero', () => '/dev/zero'],
    ['a FIFO', () => fifo],
  ] as const) {
    it(`--config ${name}: exit 2, CONFIG_UNREADABLE, not a regular file`, async () => {
      const run = await runCliCaptured(['layout', '--json', '--config', file()]);
      assert.equal(run.code, 2, run.stderr);
      const error = errorOf(run.stdout);
      assert.equal(error.code, 'CONFIG_UNREADABLE');
      assert.match(error.message, new RegExp(`configuration file ${file()} is a (character device|FIFO)`));
    });
  }

  it('a YAML alias bomb: exit 2, CONFIG_TOO_LARGE, naming the file', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [prev, next] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    const bomb = write('bomb.yaml', `${levels.join('\n')}\n`);
    const run = await runCliCaptured(['layout', '--json', '--config', bomb]);
    assert.equal(run.code, 2, run.stderr);
    const error = errorOf(run.stdout);
    assert.equal(error.code, 'CONFIG_TOO_LARGE');
    assert.match(error.message, new RegExp(`^${bomb}: its YAML aliases expand too far`));
  });

  it('20,000 unknown keys: exit 2, CONFIG_INVALID naming the file, the first few keys listed and the rest counted', async () => {
    const keys = write('keys.yaml', Array.from({ length: 20_000 }, (_, i) => `u${i}: 1\n`).join(''));
    const run = await runCliCaptured(['layout', '--json', '--store', STORE_URL, '--config', keys]);
    assert.equal(run.code, 2, run.stderr);
    const error = errorOf(run.stdout);
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.evidence['problemCount'], 20_000);
    assert.equal((error.evidence['problems'] as unknown[]).length, MAX_REPORTED_PROBLEMS);
    assert.match(error.message, new RegExp(`^invalid configuration in ${keys}:\\n  u0 \\(${keys}:1\\): no such setting`));
    assert.match(error.message, new RegExp(`\\n  … and ${20_000 - MAX_REPORTED_PROBLEMS} more$`));
  });

  it('a config file over the cap: exit 2, CONFIG_TOO_LARGE with its size', async () => {
    const big = write('big.yaml', `# ${'x'.repeat(CONFIG_MAX_BYTES)}\n`);
    const run = await runCliCaptured(['layout', '--json', '--config', big]);
    assert.equal(run.code, 2, run.stderr);
    const error = errorOf(run.stdout);
    assert.equal(error.code, 'CONFIG_TOO_LARGE');
    assert.equal(error.evidence['size'], CONFIG_MAX_BYTES + 3);
  });

  it('a key given twice: exit 2, CONFIG_SYNTAX at the second one’s line', async () => {
    const twice = write('twice.yaml', `stateDir: /a\nlog:\n  level: info\nstateDir: /b\n`);
    const run = await runCliCaptured(['layout', '--json', '--store', STORE_URL, '--config', twice]);
    assert.equal(run.code, 2, run.stderr);
    const error = errorOf(run.stdout);
    assert.equal(error.code, 'CONFIG_SYNTAX');
    assert.match(error.message, new RegExp(`^${twice}:4: YAML syntax error: Map keys must be unique \\(stateDir\\)`));
  });

  for (const [name, include, code] of [
    ['include /dev/zero', () => 'include /dev/zero', 'NIX_CONF_NOT_A_FILE'],
    ['!include of a FIFO', () => `!include ${fifo}`, 'NIX_CONF_NOT_A_FILE'],
  ] as const) {
    it(`a nix.conf with ${name}: exit 2, naming the include line`, async () => {
      const conf = write(`nix-${code}-${name.length}.conf`, `store = ${STORE_URL}\n${include()}\n`);
      const run = await runCliCaptured(['layout', '--json', '--nix-conf', conf]);
      assert.equal(run.code, 2, run.stderr);
      const error = errorOf(run.stdout);
      assert.equal(error.code, 'CONFIG_STORE');
      assert.equal(error.evidence['storeError'], code);
      assert.match(error.message, new RegExp(`${conf}:2: `));
    });
  }

  it('run with a state dir that is a file: exit 1 before anything else, saying what to do', () => {
    const file = write('state-file', '');
    const run = runCliProcess(['run', '--store', STORE_URL, '--state-dir', file]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`the state dir ${file} is not a directory: .*\\[STATE_DIR_NOT_DIRECTORY\\]`));
    assert.match(run.stderr, /hint: set stateDir in the configuration, --state-dir or OVERLAY_WARDEN_STATE_DIR to a directory/);
  });

  it('run with a state dir another user owns: exit 1, STATE_DIR_UNTRUSTED', () => {
    const theirs = path.join(dir, 'theirs');
    fs.mkdirSync(theirs, { mode: 0o700 });
    fs.chownSync(theirs, 65534, 65534);
    const run = runCliProcess(['run', '--store', STORE_URL, '--state-dir', theirs]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /is owned by uid 65534, not by root or the agent's user \(uid 0\) \[STATE_DIR_UNTRUSTED\]/);
  });
});
