import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCommand } from '../support/requirements.ts';

const HOOKS = fileURLToPath(new URL('../../hooks/', import.meta.url));
const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));

/** The shell scripts under deploy/: every file, at any depth, that starts with a `#!/bin/sh` line. */
function deployScripts(): string[] {
  return readdirSync(DEPLOY, { recursive: true })
    .map((name) => join(DEPLOY, String(name)))
    .filter((file) => statSync(file).isFile() && readFileSync(file, 'utf8').startsWith('#!/bin/sh'));
}

/** The hooks and deploy/'s scripts run as root under plain sh: every one must pass ShellCheck (POSIX sh, all warnings). */
describe('hooks/* and deploy/ scripts under ShellCheck', function () {
  before(function () {
    requireCommand(this, 'shellcheck');
  });

  it('finds nothing in any hook', () => {
    const hooks = readdirSync(HOOKS).map((name) => join(HOOKS, name));
    assert.ok(hooks.length >= 2, `hooks: ${hooks.join(', ')}`);
    const run = spawnSync('shellcheck', ['--shell=sh', '--severity=style', ...hooks], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });

  it('finds nothing in any shell script under deploy/', () => {
    const scripts = deployScripts();
    assert.ok(
      scripts.some((file) => file.endsWith('overlay-warden-qubes-binds')),
      `deploy scripts: ${scripts.join(', ')}`,
    );
    const run = spawnSync('shellcheck', ['--shell=sh', '--severity=style', ...scripts], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});
