/** On a Node.js older than 24 the CLI says so in one line, before it loads anything that needs Node 24. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodeVersionProblem } from '../../agent/cli/node-version.ts';
import { builtAgentDir } from '../support/built-dist.ts';

/** The system's Node.js (Debian's, 20 on this machine): the one an `overlay-warden` on PATH would run on by its `#!/usr/bin/env node`. */
const SYSTEM_NODE = '/usr/bin/node';

const lineFor = (version: string): string =>
  `overlay-warden needs Node.js 24 or later, found ${version}: run it with the project's node (node_modules/.bin/node) or install Node 24`;

describe('the Node.js version', () => {
  it('refuses a Node older than 24 in one line naming the version found and the fix (pure)', () => {
    assert.equal(nodeVersionProblem('20.19.2'), lineFor('20.19.2'));
    assert.equal(nodeVersionProblem('22.12.0'), lineFor('22.12.0'));
    assert.equal(nodeVersionProblem('23.11.1'), lineFor('23.11.1'));
    assert.equal(nodeVersionProblem('24.0.0'), undefined);
    assert.equal(nodeVersionProblem('25.2.1'), undefined);
  });

  it('runs the built CLI on Node 24 (this one), through the same entry', () => {
    const main = join(builtAgentDir(), 'cli', 'main.js');
    for (const flag of ['--version', '-v']) {
      const run = spawnSync(process.execPath, [main, flag], { encoding: 'utf8' });
      assert.deepEqual([run.status, run.stdout, run.stderr], [0, 'overlay-warden 0.1.0\n', ''], flag);
    }
  });

  it("says so in one line, exit 2, when the built CLI runs on the system's older Node (no stack trace for node:sqlite)", function () {
    // This test's subject is an old Node on the machine. Where there is none, there is nothing to test, and nothing
    // to install either: so it skips with the reason even under CI=true (skipOrFail is for requirements a machine
    // can be given).
    if (!existsSync(SYSTEM_NODE)) {
      console.log(`      skipped: no ${SYSTEM_NODE} on this machine, so no older Node to run the CLI on`);
      this.skip();
    }
    const version = spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (!(Number.parseInt(version, 10) < 24)) {
      console.log(`      skipped: ${SYSTEM_NODE} is Node ${version}, not older than 24`);
      this.skip();
    }
    const main = join(builtAgentDir(), 'cli', 'main.js');
    for (const argv of [['check'], ['--help'], ['verify', '--all']]) {
      const run = spawnSync(SYSTEM_NODE, [main, ...argv], { encoding: 'utf8' });
      assert.deepEqual([run.status, run.stdout, run.stderr], [2, '', `${lineFor(version)}\n`], argv.join(' '));
    }
  });
});
