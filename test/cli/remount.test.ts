import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { remountHandler, startControlServer, type ControlServer } from '../../agent/control/index.ts';
import { Remounter } from '../../agent/remount/index.ts';
import { runCliCaptured, runCliProcess } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';
import { inFreshNamespace } from '../support/mount-namespace.ts';
import { runNix } from '../support/nix-kit.ts';
import { requireMountNamespaces, requireNix } from '../support/requirements.ts';
import { writeHook } from '../remount/hook-fixture.ts';

describe('overlay-warden remount', function () {
  let dir: string;
  let server: ControlServer | undefined;
  let remounter: Remounter | undefined;
  const store = (d: string) => `local-overlay://?root=${d}/merged&lower-store=${encodeURIComponent(`${d}/lower`)}&upper-layer=${d}/upper`;
  const socket = () => join(dir, 'run', 'control.sock');

  /** A config file naming this test's control socket and remount settings. */
  function config(extra = ''): string {
    const file = join(dir, 'overlay-warden.yaml');
    writeFileSync(file, `stateDir: ${dir}/state\ncontrol:\n  socket: ${socket()}\nremount:\n  attempts: 1\n  backoffSeconds: 0\n  coalesceMs: 0\n${extra}`);
    return file;
  }

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ow-remount-cli-'))));
  afterEach(async () => {
    await server?.close();
    await remounter?.close();
    server = remounter = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks the running agent and prints the outcome: ran, coalesced, verified fresh', async () => {
    const hook = writeHook(dir, 'hook', 'exit 0');
    remounter = new Remounter({
      mergedStoreDir: `${dir}/merged/nix/store`,
      stateDir: join(dir, 'state'),
      settings: { command: [hook.path], timeoutSeconds: 10, attempts: 1, backoffSeconds: 0, coalesceMs: 0 },
      verifyAfterRemount: async () => ({ fresh: true, findings: [] }),
    });
    server = await startControlServer({ socketPath: socket(), handlers: { remount: remountHandler(remounter, `${dir}/merged/nix/store`) } });
    const file = config();

    const json = await runCliCaptured(['remount', '--json', '--config', file, '--store', store(dir)]);
    assert.equal(json.code, 0, json.stderr);
    const { via, outcome } = reportOf(json.stdout, 'remount');
    assert.equal(via, 'agent');
    assert.deepEqual([outcome.status, outcome.fresh, outcome.run, outcome.requests], ['remounted', true, 1, 1]);
    assert.match(outcome.reasons[0], /^manual request by overlay-warden remount \(uid \d+\)$/);

    const text = await runCliCaptured(['remount', '--config', file, '--store', store(dir)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^remounted\n/);
    assert.match(text.stdout, /ran\s+by the agent, run 2, 1 attempt/);
    assert.match(text.stdout, /coalesced\s+no: this run answered this request alone/);
    assert.match(text.stdout, /view\s+fresh/);
    assert.equal(hook.calls().length, 2);

    const queued = await runCliCaptured(['remount', '--no-wait', '--json', '--config', file, '--store', store(dir)]);
    assert.equal(queued.code, 0, queued.stderr);
    assert.deepEqual(reportOf(queued.stdout, 'remount'), { via: 'agent', queued: true, outcome: null, findings: [] });
    assert.equal(remounter.status().counters.requests, 3);
  });

  it("exits 1 with the agent's failure", async () => {
    remounter = new Remounter({
      mergedStoreDir: `${dir}/merged/nix/store`,
      stateDir: join(dir, 'state'),
      settings: { command: ['/bin/false'], timeoutSeconds: 10, attempts: 1, backoffSeconds: 0, coalesceMs: 0 },
      verifyAfterRemount: async () => ({ fresh: true, findings: [] }),
    });
    server = await startControlServer({ socketPath: socket(), handlers: { remount: remountHandler(remounter, `${dir}/merged/nix/store`) } });
    const run = await runCliCaptured(['remount', '--config', config(), '--store', store(dir)]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^remount failed\n/);
    assert.match(run.stdout, /error: the remount command \/bin\/false .* exited with status 1 \[REMOUNT_COMMAND_FAILED\]/);
  });

  it('without an agent: says so, exits 3 and points at --direct', async () => {
    const run = await runCliCaptured(['remount', '--config', config(), '--store', store(dir)]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /no agent answers on .*control\.sock \(ENOENT\) \[CONTROL_NO_AGENT\]\nhint: .*--direct/);
  });

  it('--direct refuses to remount behind a running agent', async () => {
    server = await startControlServer({ socketPath: socket(), handlers: {} });
    const run = await runCliCaptured(['remount', '--direct', '--config', config(), '--store', store(dir)]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /CONTROL_SOCKET_IN_USE/);
  });

  it('--direct runs the command itself and reports what the mount check says afterwards', async () => {
    const hook = writeHook(dir, 'hook', 'exit 0');
    // Nothing is mounted at the merged dir, so the check afterwards cannot call the view fresh.
    const run = await runCliCaptured(['remount', '--direct', '--json', '--config', config(`  command: [${hook.path}]\n`), '--store', store(dir)]);
    assert.equal(run.code, 1);
    const { via, outcome, findings } = reportOf(run.stdout, 'remount');
    assert.equal(via, 'direct');
    assert.equal(outcome.error.code, 'REMOUNT_STILL_STALE');
    assert.ok(findings.some((f) => f.severity === 'error'));
    assert.deepEqual(hook.calls(), [`always 1 ${dir}/merged/nix/store`]);
  });

  it('--direct on a real overlay of a Nix-built lower store: remounts with hooks/remount and the mount check passes', function () {
    requireMountNamespaces(this);
    requireNix(this);
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'f'), 'hello\n');
    runNix('nix-store', ['--store', join(dir, 'lower'), '--add', join(dir, 'src')]);
    for (const d of ['upper', 'work', 'merged/nix/store']) mkdirSync(join(dir, d), { recursive: true });
    const mount = `mount -t overlay overlay -o lowerdir=${dir}/lower/nix/store,upperdir=${dir}/upper,workdir=${dir}/work ${dir}/merged/nix/store && exec "$0" "$@"`;
    const run = runCliProcess(['remount', '--direct', '--json', '--config', config(), '--store', store(dir)], {
      prefix: inFreshNamespace(['sh', '-c', mount]),
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const { outcome } = reportOf(run.stdout, 'remount');
    assert.deepEqual([outcome.status, outcome.fresh], ['remounted', true]);
    assert.match(outcome.lastAttempt.argv[0], /hooks\/remount$/);
    assert.equal(outcome.lastAttempt.stdout.text, `remount: remounted ${dir}/merged/nix/store\n`);
  });
});
