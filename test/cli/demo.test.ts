import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { AS_NOBODY } from '../support/as-nobody.ts';
import { runCliProcess } from '../support/cli-run.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

/** The demo directory the run announced, so the test can check it was removed. */
function demoDirOf(stdout: string): string {
  const match = /in (\/\S+overlay-warden-demo-\w+) …/.exec(stdout);
  assert.ok(match, `no demo dir in:\n${stdout}`);
  return match[1]!;
}

describe('overlay-warden demo', function () {
  before(function () {
    requireCommand(this, 'unshare');
  });

  it('builds, mounts privately, shows the layout, and cleans up (as root)', function () {
    requireRoot(this);
    const run = runCliProcess(['demo', '--lower-paths', '30', '--upper-paths', '8']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /lower store: 30 paths/);
    assert.match(run.stdout, /Mounted the overlay at \S+\/merged\/nix\/store/);
    assert.match(run.stdout, /upper layer\s+\S+\/upper\/store/);
    assert.match(run.stdout, /mount\.ok/);
    // The agent tour: drift seen, stale view flagged, remounts verified, and what the merged dir serves afterwards.
    assert.match(run.stdout, /drift: the lower store grew by 1 path/);
    assert.match(run.stdout, /the new path is visible through the merged store dir/);
    assert.match(run.stdout, /stale view: the upper copy of \S+ was deleted directly while the lower store has it/);
    assert.match(run.stdout, /is served from the lower store, as it should be/);
    assert.match(run.stdout, /remounts done: 2/);
    assert.equal(existsSync(demoDirOf(run.stdout)), false);
    // The mount lived in the demo's own namespace: ours shows no trace of it.
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), /overlay-warden-demo/);
  });

  it('runs without root in a user namespace', function () {
    requireRoot(this); // to switch to an unprivileged user
    const run = runCliProcess(['demo', '--lower-paths', '10', '--upper-paths', '3'], {
      prefix: AS_NOBODY,
      env: { ...process.env, TMPDIR: '/tmp', HOME: '/tmp' },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /inside a user namespace \(no root needed\)/);
    assert.match(run.stdout, /merged store dir/);
    assert.match(run.stdout, /remount verified/);
    assert.match(run.stdout, /remounts done: 2/);
    assert.equal(existsSync(demoDirOf(run.stdout)), false);
  });
});
