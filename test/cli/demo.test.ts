import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { AS_NOBODY } from '../support/as-nobody.ts';
import { runCliProcess } from '../support/cli-run.ts';
import { parseEnvelope, type Envelope } from '../support/json-output.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

/** The demo directory the run announced, so the test can check it was removed (or kept). */
function demoDirOf(text: string): string {
  const match = /in (\/\S+overlay-warden-demo-\w+) …/.exec(text);
  assert.ok(match, `no demo dir in:\n${text}`);
  return match[1]!;
}

interface DemoStep {
  argv: string[];
  exitCode: number;
  expected: string;
  asExpected: boolean;
  differences: string[];
  output: Envelope;
}

/** The findings with `id` a step's envelope holds, as the store paths they name. */
function pathsOf(step: DemoStep, id: string): unknown[] {
  return step.output.findings.filter((f) => f.id === id).map((f) => f.evidence['path']);
}

describe('overlay-warden demo', function () {
  this.timeout(180_000);

  before(function () {
    requireCommand(this, 'unshare');
  });

  it('tours check, audit, verify, the agent and status, every step as expected, and cleans up (as root)', function () {
    requireRoot(this);
    const run = runCliProcess(['demo', '--lower-paths', '30', '--upper-paths', '8']);
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /lower store: 30 paths/);
    assert.match(run.stdout, /Mounted the overlay at \S+\/merged\/nix\/store/);
    // The check finds nothing to warn about in the demo's own setup: its lower store dir is a read-only mount.
    assert.doesNotMatch(run.stdout, /layer\.lower-writable/);
    assert.match(run.stdout, /layer\.lower-read-only/);
    assert.match(run.stdout, /OK: 0 errors, 0 warnings/);
    // The real reports of audit and verify, then status's, each with its verdict.
    assert.match(run.stdout, /store\.masked: \S+ is valid in the lower DB but a whiteout in the upper layer hides it/);
    assert.match(run.stdout, /store\.corrupt: \S+ was modified/);
    assert.match(run.stdout, /drift seen\s+lower-grew ×1, upper-path-deleted ×1/);
    assert.match(run.stdout, /remount\s+not needed \(2 remounts done\)/);
    assert.equal((run.stdout.match(/✓ as expected/g) ?? []).length, 5, 'layout, check, audit, verify, status');
    assert.doesNotMatch(run.stdout, /NOT as expected|^✗/m, 'no step and no agent check came out otherwise (the reports mark errors with an indented ✗)');
    // The agent tour: drift seen, stale view flagged, remounts verified, and what the merged dir serves afterwards.
    assert.match(run.stdout, /drift: the lower store grew by 1 path/);
    assert.match(run.stdout, /✓ after the remount \(verified fresh\), the new path is visible through the merged store dir/);
    assert.match(run.stdout, /stale view: the upper copy of \S+ was deleted directly while the lower store has it/);
    assert.match(run.stdout, /✓ after the remount, \S+ is served from the lower store/);
    assert.match(run.stdout, /Every step came out as expected/);
    assert.match(run.stdout, /On your own store, next:\n\s+overlay-warden layout --store/);
    assert.match(run.stdout, /the demo directory is removed next/);
    assert.equal(existsSync(demoDirOf(run.stdout)), false);
    // The mount lived in the demo's own namespace: ours shows no trace of it.
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), /overlay-warden-demo/);
  });

  it('--json: audit finds the duplicates and the masked path, verify the tampered copy', function () {
    requireRoot(this);
    const run = runCliProcess(['demo', '--json', '--lower-paths', '30', '--upper-paths', '8']);
    assert.equal(run.status, 0, run.stderr);
    const envelope = parseEnvelope(run.stdout, 'demo');
    const result = envelope.result as { steps: DemoStep[]; mishaps: { masked: string; tampered: string }; store: { duplicates: number } };
    const step = (name: string): DemoStep => result.steps.find((s) => s.argv[0] === name)!;
    const { masked, tampered } = result.mishaps;
    assert.notEqual(masked, tampered);
    assert.deepEqual(pathsOf(step('audit'), 'store.masked'), [masked]);
    // The demo's duplicates, and the upper copy the edit made.
    assert.equal(pathsOf(step('audit'), 'store.duplicate').length, result.store.duplicates + 1);
    assert.ok(pathsOf(step('audit'), 'store.duplicate').includes(tampered));
    assert.deepEqual(pathsOf(step('verify'), 'store.corrupt'), [tampered]);
    const corrupt = step('verify').output.findings.find((f) => f.id === 'store.corrupt')!;
    assert.deepEqual([corrupt.evidence['servedFrom'], corrupt.evidence['lowerCopy']], ['upper', 'matches']);
    assert.deepEqual(pathsOf(step('verify'), 'store.masked'), [masked]);
    assert.deepEqual(pathsOf(step('check'), 'layer.lower-writable'), [], 'the lower store dir is a read-only mount, so check has nothing to warn about');
    for (const s of result.steps) assert.ok(s.asExpected, `${s.argv[0]}: ${s.differences.join('; ')}`);
  });

  it('--keep says the directory is kept, and keeps it', function () {
    requireRoot(this);
    const run = runCliProcess(['demo', '--keep', '--lower-paths', '10', '--upper-paths', '3']);
    const dir = demoDirOf(run.stdout);
    try {
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /the demo directory is kept\./);
      assert.match(run.stdout, new RegExp(`The demo directory ${dir} is kept \\(--keep\\)`));
      assert.doesNotMatch(run.stdout, /removed/);
      // How to look through the merged view again: the mount command for its layers.
      assert.match(run.stdout, new RegExp(`mount -t overlay overlay -o lowerdir=${dir}/store/lower/nix/store,upperdir=${dir}/store/upper/store,`));
      assert.equal(existsSync(`${dir}/store/lower/nix/store`), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    assert.match(run.stdout, /Every step came out as expected/);
    assert.equal(existsSync(demoDirOf(run.stdout)), false);
  });
});
