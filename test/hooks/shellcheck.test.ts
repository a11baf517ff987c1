import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCommand } from '../support/requirements.ts';

const HOOKS = fileURLToPath(new URL('../../hooks/', import.meta.url));

/** The hooks run as root under plain sh: every one must pass ShellCheck (POSIX sh, all warnings). */
describe('hooks/* under ShellCheck', function () {
  before(function () {
    requireCommand(this, 'shellcheck');
  });

  it('finds nothing in any hook', () => {
    const hooks = readdirSync(HOOKS).map((name) => join(HOOKS, name));
    assert.ok(hooks.length >= 2, `hooks: ${hooks.join(', ')}`);
    const run = spawnSync('shellcheck', ['--shell=sh', '--severity=style', ...hooks], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });
});
