/**
 * Every command's `--json` on a real overlay of Nix 2.8 stores (and the agent running on it): one envelope with the
 * same top-level keys, valid against agent/cli/json-output.schema.json, with the exit code the process exits with;
 * errors (usage, configuration, runtime) in the same envelope. The overlay is fresh: Nix has not used it, so it has
 * no upper DB yet, and `audit` and `verify` must say so.
 */
import assert from 'node:assert/strict';
import { AgentScenario, runCli, type AgentChild } from '../support/agent-child.ts';
import { runCliProcess } from '../support/cli-run.ts';
import { COMMANDS } from '../../agent/cli/commands/index.ts';
import { OUTPUT_SCHEMA, parseEnvelope, reportOf, schemaErrors, type Envelope } from '../support/json-output.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

const ENV: NodeJS.ProcessEnv = { PATH: process.env['PATH'], NO_COLOR: '1' };
const KEYS = ['command', 'ok', 'exitCode', 'findings', 'result', 'error'];

describe('--json: one envelope for every command, valid against the schema', function () {
  this.timeout(180_000);
  let s: AgentScenario | undefined;
  let agent: AgentChild;

  /** `overlay-warden ARGV --json --config FILE` inside the overlay's namespace: the exit code and the validated envelope. */
  async function json(...argv: string[]): Promise<{ code: number | null; envelope: Envelope; stderr: string }> {
    const run = await runCli([...argv, '--json', '--config', s!.configFile], ENV, s!.ns.nsenter);
    const envelope = parseEnvelope(run.stdout, argv[0]);
    assert.deepEqual(Object.keys(envelope), KEYS);
    assert.equal(envelope.exitCode, run.code, 'the envelope says the exit code the process exits with');
    return { code: run.code, envelope, stderr: run.stderr };
  }

  before(async function () {
    requireNixOverlayFixture(this);
    // Five small lower paths: one batch for verify's worker threads.
    s = await AgentScenario.create(
      'cd "$(dirname "$EXPR")"; for i in 1 2 3 4 5; do echo "$i" > "lower-$i"; nix-store --store "$A" --add "lower-$i" >/dev/null; done',
    );
    // The configuration asks for text logs: `run --json` must log JSON lines all the same.
    s.writeConfig({ log: { format: 'text' } });
    agent = await s.startAgent(s.configFile, ['--json']);
  });
  after(async () => s?.close());

  it('run --json logs JSON lines whatever log.format says', () => {
    assert.ok(agent.log.length > 0);
    assert.deepEqual(agent.other, [], 'every line on stderr is a JSON object');
  });

  it('check: the findings at the top, the checks, layout and mount as the result; exit 0', async () => {
    const { code, envelope } = await json('check');
    assert.equal(code, 0);
    assert.equal(envelope.ok, true);
    assert.ok(envelope.findings.some((f) => f.id === 'mount.ok'));
    assert.deepEqual(Object.keys(envelope.result!), ['checks', 'layout', 'mount']);
  });

  it('layout: no findings, the resolved layout', async () => {
    const { code, envelope } = await json('layout');
    assert.equal(code, 0);
    assert.deepEqual(envelope.findings, []);
    assert.equal(envelope.result!['layout'].upperLayer, s!.fixture.upperLayer);
  });

  it('audit on an overlay without an upper DB: says so (layer.upper-db-absent), exit 0', async () => {
    const { code, envelope } = await json('audit');
    assert.equal(code, 0);
    assert.deepEqual(
      envelope.findings.map((f) => f.id),
      ['layer.upper-db-absent'],
    );
    assert.equal(envelope.result!['stats'].upperRegistrations, 0);
    const text = await runCli(['audit', '--config', s!.configFile], ENV, s!.ns.nsenter);
    assert.match(text.stdout, /layer\.upper-db-absent: the upper DB \S+ does not exist yet; Nix creates it the first time it opens the store/);
    assert.match(text.stdout, /\nOK: 0 errors, 0 warnings, 1 info; registrations: 0 upper, \d+ lower; /);
  });

  it('verify of the upper DB that does not exist: nothing planned, and says why', async () => {
    const { code, envelope } = await json('verify');
    assert.equal(code, 0);
    assert.deepEqual(
      envelope.findings.map((f) => f.id),
      ['layer.upper-db-absent'],
    );
    assert.deepEqual([envelope.result!['planned'], envelope.result!['checked'], envelope.result!['threads']], [0, 0, 0]);
    const text = await runCli(['verify', '--config', s!.configFile], ENV, s!.ns.nsenter);
    assert.match(text.stdout, /layer\.upper-db-absent: the upper DB \S+ does not exist yet/);
    assert.match(text.stdout, /OK: 0 errors, 0 warnings, 1 info; no paths to hash in scope upper, in /);
    assert.doesNotMatch(text.stdout, /threads?/);
  });

  it('verify --lower of 5 small paths with --threads 8: says the 1 thread that hashed them, not 8', async () => {
    const { code, envelope } = await json('verify', '--lower', '--threads', '8');
    assert.equal(code, 0);
    const { planned, checked, threads, maxThreads } = envelope.result!;
    assert.deepEqual({ planned, checked, threads, maxThreads }, { planned: 5, checked: 5, threads: 1, maxThreads: 8 });
    const text = await runCli(['verify', '--lower', '--threads', '8', '--config', s!.configFile], ENV, s!.ns.nsenter);
    assert.match(text.stdout, /OK: 0 errors, 0 warnings, 0 info; 5 of 5 paths hashed \(\d+ B\) in [\d.]+ s, [^,]+\/s on 1 thread \(/);
  });

  it('status: the latest check at the top, the agent view as the result; exit 0 for a valid mount', async () => {
    const { code, envelope } = await json('status');
    assert.equal(code, 0);
    assert.ok(envelope.findings.some((f) => f.id === 'mount.ok'));
    assert.equal(envelope.result!['mountValid'], true);
    assert.equal(envelope.result!['socket'], s!.socket);
    // The scheduled-work section (valid against the schema like the rest): the scrub pool idle, its gauges zero.
    assert.deepEqual(Object.keys(envelope.result!['schedule']), ['audit', 'scrub', 'pool']);
    assert.deepEqual(envelope.result!['schedule'].pool, { threads: 0, busy: 0, queued: 0 });
  });

  it('remount through the agent: the check afterwards at the top, the outcome as the result', async () => {
    const { code, envelope } = await json('remount');
    assert.equal(code, 0);
    assert.ok(envelope.findings.some((f) => f.id === 'mount.ok'));
    assert.deepEqual([envelope.result!['via'], envelope.result!['outcome'].status], ['agent', 'remounted']);
    assert.equal('findings' in envelope.result!['outcome'], false, 'the findings are at the top, once');
  });

  it('baseline: the baseline on disk; --accept: what the running agent accepted', async () => {
    const shown = await json('baseline');
    assert.equal(shown.code, 0);
    assert.deepEqual([shown.envelope.result!['accepted'], shown.envelope.result!['baseline'].paths], [null, 5]);
    const accepted = await json('baseline', '--accept');
    assert.equal(accepted.code, 0);
    assert.deepEqual([accepted.envelope.result!['accepted'].paths, accepted.envelope.result!['baseline']], [5, null]);
    assert.match(accepted.envelope.result!['accepted'].by, /^overlay-warden baseline --accept \(uid 0\)$/);
  });

  it('errors are the same envelope: usage (2), configuration (2), unknown command (command null), runtime (1)', async () => {
    const usage = await json('audit', '--threads', 'many');
    assert.deepEqual([usage.code, usage.envelope.ok, usage.envelope.result, usage.envelope.error?.code], [2, false, null, 'USAGE_BAD_VALUE']);
    const config = await runCli(['layout', '--json', '--store', 'local-overlay://?lower-store=/l'], ENV);
    assert.deepEqual([config.code, parseEnvelope(config.stdout, 'layout').error?.code], [2, 'CONFIG_STORE']);
    const unknown = await runCli(['chek', '--json'], ENV);
    const envelope = parseEnvelope(unknown.stdout);
    assert.deepEqual([unknown.code, envelope.command, envelope.error?.code], [2, null, 'USAGE_UNKNOWN_COMMAND']);
    const noLowerDb = `local-overlay://?root=${s!.fixture.mergedRoot}&lower-store=${encodeURIComponent(`${s!.fixture.dir}/none`)}&upper-layer=${s!.fixture.upperLayer}`;
    const runtime = await runCli(['audit', '--json', '--store', noLowerDb], ENV);
    const failed = parseEnvelope(runtime.stdout, 'audit');
    assert.deepEqual([runtime.code, failed.exitCode, failed.error?.code], [1, 1, 'NIX_DB_MISSING']);
    assert.ok(failed.error!.message.length > 0 && typeof failed.error!.evidence === 'object');
  });

  it('run --json: on SIGTERM, exit 0 and the envelope on stdout with the latest check', async () => {
    const exit = await agent.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    const envelope = parseEnvelope(agent.stdout, 'run');
    assert.deepEqual([envelope.exitCode, envelope.result!['stopped']], [0, 'signal']);
    assert.ok(envelope.findings.some((f) => f.id === 'mount.ok'));
  });

  it('the schema refuses an envelope whose keys or shapes drift', () => {
    const good = { command: 'layout', ok: true, exitCode: 0, findings: [], result: { layout: {}, source: 's', configFile: null, stateDir: '/s' }, error: null };
    assert.notDeepEqual(schemaErrors(good), [], 'an empty layout is not a layout');
    assert.notDeepEqual(schemaErrors({ ...good, ok: false }), []);
    assert.notDeepEqual(schemaErrors({ ...good, extra: 1 }), []);
    const { error: _error, ...missing } = good;
    assert.notDeepEqual(schemaErrors(missing), []);
    const finding = { id: 'mount.ok', severity: 'fatal', message: 'm', evidence: {} };
    assert.notDeepEqual(schemaErrors({ ...good, command: 'check', findings: [finding] }), []);
  });
});

describe('demo --json', function () {
  this.timeout(180_000);

  it('narrates on stderr and prints one envelope: each step with the envelope it printed and its verdict', function () {
    requireRoot(this);
    requireCommand(this, 'unshare');
    const run = runCliProcess(['demo', '--json', '--lower-paths', '20', '--upper-paths', '5']);
    assert.equal(run.status, 0, run.stderr);
    const envelope = parseEnvelope(run.stdout, 'demo');
    assert.equal(envelope.exitCode, 0);
    const { steps, store, agentTour, kept, next } = envelope.result!;
    assert.deepEqual(
      (steps as Array<{ argv: string[] }>).map((step) => step.argv[0]),
      ['layout', 'check', 'audit', 'verify', 'status'],
    );
    for (const step of steps as Array<{ exitCode: number; output: Envelope; expected: string; asExpected: boolean }>) {
      assert.equal(step.output.exitCode, step.exitCode);
      assert.match(step.expected, /^exit \d/);
      assert.equal(step.asExpected, true);
    }
    assert.deepEqual([store.lowerPaths, store.upperPaths, agentTour.ok, agentTour.checks.length, kept], [20, 5, true, 2, false]);
    assert.ok((next as string[]).length > 0);
    assert.match(run.stderr, /Building a demo lower store/);
    assert.match(run.stderr, /✓ as expected/, 'the tour, verdicts included, goes to stderr');
    assert.match(run.stderr, /"remount":"remount-verified"/, 'the agent tour logs JSON lines on stderr');
  });
});

describe('the schema', () => {
  it('names every command, and describes the result of each', () => {
    const properties = OUTPUT_SCHEMA['properties'] as { command: { enum: unknown[] } };
    assert.deepEqual(properties.command.enum, [...COMMANDS.map((c) => c.name), null]);
    const defs = OUTPUT_SCHEMA['$defs'] as Record<string, unknown>;
    for (const { name } of COMMANDS) assert.ok(defs[`${name}Result`] !== undefined, `no ${name}Result in the schema`);
  });
});

describe('reportOf', () => {
  it('puts the findings beside the result keys', () => {
    const stdout = JSON.stringify({
      command: 'run',
      ok: true,
      exitCode: 0,
      findings: [],
      result: { stopped: 'signal', mergedStoreDir: '/m' },
      error: null,
    });
    assert.deepEqual(reportOf(stdout, 'run'), { stopped: 'signal', mergedStoreDir: '/m', findings: [] });
  });
});
