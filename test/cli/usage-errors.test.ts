/** Every command's bad options and arguments, as users meet them: exit 2, a message naming the option, the value and what it takes. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, runCliProcess } from '../support/cli-run.ts';

/** A store URL that resolves (nothing is read from it: each case is refused before or without touching the store). */
const STORE = 'local-overlay://?root=/nonexistent/merged&lower-store=%2Fnonexistent%2Flower&upper-layer=/nonexistent/upper';

/** argv, the error code, and what the message says. */
const CASES: ReadonlyArray<readonly [readonly string[], string, RegExp]> = [
  [['frobnicate'], 'USAGE_UNKNOWN_COMMAND', /unknown command "frobnicate" \[/],
  // A misspelt command or option: the one meant.
  [['chek'], 'USAGE_UNKNOWN_COMMAND', /unknown command "chek" \(did you mean "check"\?\)/],
  [['--verison'], 'USAGE_UNKNOWN_OPTION', /unknown option --verison before the command \(did you mean --version\?\)/],
  [['verify', '--treads', '3'], 'USAGE_UNKNOWN_OPTION', /verify has no option --treads \(did you mean --threads\?\)/],
  [['remount', '--dirct'], 'USAGE_UNKNOWN_OPTION', /remount has no option --dirct \(did you mean --direct\?\)/],
  [['demo', '--lower-paths', 'x'], 'USAGE_BAD_VALUE', /--lower-paths takes a whole number from 1 to 1000000, got "x"/],
  [['verify', '--threads', '1.5'], 'USAGE_BAD_VALUE', /--threads takes a whole number from 1 to 256, got "1\.5"/],
  [['audit', '--threads', 'many'], 'USAGE_BAD_VALUE', /--threads takes a whole number from 1 to 256, got "many"/],
  [['verify', '--threads'], 'USAGE_BAD_VALUE', /--threads needs a value/],
  [['verify', '--threads', '--upper'], 'USAGE_BAD_VALUE', /--threads needs a value, got the option "--upper" \(write --threads=--upper/],
  [['check', '--mountinfo'], 'USAGE_BAD_VALUE', /--mountinfo needs a value/],
  [['layout', '--json=yes'], 'USAGE_BAD_VALUE', /--json takes no value, got "yes"/],
  [['status', '--frob'], 'USAGE_UNKNOWN_OPTION', /status has no option --frob/],
  [['run', '-x'], 'USAGE_UNKNOWN_OPTION', /run has no option -x/],
  [['layout', 'extra'], 'USAGE_BAD_ARGUMENT', /layout takes no arguments, got "extra"/],
  [['verify', '--store', STORE, '/etc/passwd'], 'USAGE_BAD_ARGUMENT', /'\/etc\/passwd' is not a store path in \/nix\/store/],
  [['verify', '--upper', '--lower', '--all'], 'USAGE_CONFLICT', /--upper, --lower, and --all exclude each other: give one/],
  [['verify', '--lower', '/nix/store/x'], 'USAGE_CONFLICT', /--lower and store paths exclude each other/],
  [['remount', '--direct', '--no-wait'], 'USAGE_CONFLICT', /--direct and --no-wait exclude each other/],
  // Configuration errors are exit 2 as well, and name the flag a bad value came from.
  [['layout', '--store', STORE, '--state-dir', 'relative'], 'CONFIG_INVALID', /stateDir \(--state-dir\): expected an absolute path, got "relative"/],
  [['check', '--store', STORE, '--mountinfo', ''], 'CONFIG_INVALID', /mountinfo \(--mountinfo\): expected an absolute path, got ""/],
];

interface Exit {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as a child process without waiting for it, so the cases run side by side. */
function spawnCli(argv: readonly string[]): Promise<Exit> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI_MAIN, ...argv], { encoding: 'utf8', timeout: 120_000 }, (_error, stdout, stderr) =>
      resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

describe('usage errors of every command', () => {
  let exits: readonly Exit[];
  before(async () => {
    exits = await Promise.all(CASES.map(([argv]) => spawnCli(argv)));
  });

  CASES.forEach(([argv, code, message], i) => {
    it(`overlay-warden ${argv.join(' ')}: exit 2, ${code}`, () => {
      const run = exits[i]!;
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, new RegExp(`\\[${code}\\]`));
      assert.equal(run.stdout, '');
    });
  });

  it('asks "did you mean" for a misspelt key of the configuration file, and for a misspelt value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ow-usage-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, `store:\n  url: "${STORE}"\n  uperLayer: /u\nlog:\n  level: warning\n`, { mode: 0o600 });
      const run = runCliProcess(['layout', '--config', file]);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /store\.uperLayer \(\S+c\.yaml:3\): no such setting \(did you mean store\.upperLayer\?\)/);
      assert.match(run.stderr, /log\.level \(\S+c\.yaml:5\): expected one of "error", "warn", "info", "debug", got "warning" \(did you mean "warn"\?\)/);
      assert.match(run.stderr, /\[CONFIG_INVALID\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the version for -v as for --version', () => {
    for (const flag of ['-v', '--version']) {
      const run = runCliProcess([flag]);
      assert.deepEqual([run.status, run.stdout, run.stderr], [0, 'overlay-warden 0.1.0\n', ''], flag);
    }
  });

  it("points at the command's help when the error has no hint of its own; --json puts the error on stdout", () => {
    const run = runCliProcess(['demo', '--json', '--lower-paths', 'x']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /hint: overlay-warden demo --help/);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; evidence: Record<string, unknown>; hint: string } };
    assert.deepEqual(
      [error.code, error.evidence['option'], error.evidence['value'], error.hint],
      ['USAGE_BAD_VALUE', '--lower-paths', 'x', 'overlay-warden demo --help'],
    );
  });
});
