/** `overlay-warden pivot`'s command line and human report, with literal inputs (the runs are in test/repair/). */
import assert from 'node:assert/strict';
import { formatPivotReport, pivotExitCode } from '../../agent/cli/commands/pivot.ts';
import type { PivotReport } from '../../agent/repair/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';

const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: { NO_COLOR: '1' } };

const report = (over: Partial<PivotReport> = {}): PivotReport => ({
  dryRun: false,
  source: { kind: 'dead', file: '/tmp/dead', listed: 3 },
  toCopy: [{ path: '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a', narSize: 2 * 1048576 }],
  copyBytes: 2 * 1048576,
  copied: ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a'],
  bytesWritten: 2 * 1048576,
  alreadyUpper: 1,
  problems: [],
  space: { neededBytes: 2 * 1048576, neededInodes: 1, availableBytes: 1e9, availableInodes: 1e6, fits: true },
  leftoversRemoved: 0,
  remount: { status: 'remounted', fresh: true },
  mounted: true,
  notServed: [],
  ...over,
});

describe('overlay-warden pivot: command line and report', () => {
  for (const [argv, code] of [
    [['pivot'], 'USAGE_CONFLICT'],
    [['pivot', '--dead', 'a', '--lower-db', 'b'], 'USAGE_CONFLICT'],
    [['pivot', '--dead', 'a', '--lock-timeout', 'soon'], 'USAGE_BAD_VALUE'],
  ] as const) {
    it(`${argv.join(' ')}: exit 2, ${code}`, async () => {
      const run = await runCliCaptured([...argv, '--json']);
      assert.equal(run.code, 2);
      assert.equal((JSON.parse(run.stdout) as { error: { code: string } }).error.code, code);
    });
  }

  it('exit 0 only when every needed path is secured and the remount went well', () => {
    assert.equal(pivotExitCode(report()), 0);
    assert.equal(pivotExitCode(report({ problems: [{ path: '/nix/store/x', reason: 'unregistered', message: 'm', command: 'nix …' }] })), 1);
    assert.equal(pivotExitCode(report({ remount: { status: 'failed', fresh: false, error: 'the agent went away' } })), 1);
    assert.equal(pivotExitCode(report({ notServed: ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a'] })), 1);
    assert.equal(pivotExitCode(report({ dryRun: true, remount: null, space: { ...report().space!, fits: false } })), 1);
  });

  it('the report says what was copied, what was not and the command that fixes it', () => {
    const text = formatPivotReport(
      io,
      report({
        problems: [{ path: '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b', reason: 'unregistered', message: 'x references it', command: 'nix path-info …' }],
      }),
      'direct',
    );
    assert.match(text, /^copied 1 path into the upper layer/);
    assert.match(text, /✓ \/nix\/store\/a{32}-a/);
    assert.match(text, /✗ \/nix\/store\/b{32}-b \[unregistered\]: x references it\n {4}fix: nix path-info …/);
    assert.match(text, /remount +remounted, view fresh/);
    const dry = formatPivotReport(io, report({ dryRun: true, copied: [], remount: null }), 'agent');
    assert.match(dry, /^dry run: would copy 1 path \(2\.0 MiB of NAR\)/);
    assert.match(dry, /ran +by the agent/);
    assert.doesNotMatch(dry, /remount/);
  });
});
