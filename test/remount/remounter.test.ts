import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  readRemountNeeded,
  remountNeededPath,
  Remounter,
  type RemountEvent,
  type RemounterOptions,
  type RemountRequest,
  type RemountSettings,
  type RemountVerification,
} from '../../agent/remount/index.ts';
import { finding } from '../../agent/findings/index.ts';
import { writeHook, type TestHook } from './hook-fixture.ts';

const FRESH: RemountVerification = { fresh: true, findings: [] };

describe('Remounter with real commands', function () {
  let root: string;
  let case_ = 0;
  let dir: string;
  let remounter: Remounter | undefined;
  let events: RemountEvent[];

  before(() => (root = mkdtempSync(join(tmpdir(), 'ow-remounter-'))));
  after(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    dir = join(root, String(++case_));
    mkdirSync(dir);
    events = [];
  });
  afterEach(async () => {
    await remounter?.close();
    remounter = undefined;
  });

  /** A remounter over `dir` running `hook`; small windows and backoffs so tests are quick. */
  function make(hook: TestHook, overrides: Omit<Partial<RemounterOptions>, 'settings'> & { settings?: Partial<RemountSettings> } = {}): Remounter {
    const { settings, ...rest } = overrides;
    const r = new Remounter({
      mergedStoreDir: join(dir, 'merged'),
      stateDir: join(dir, 'state'),
      settings: { command: [hook.path], timeoutSeconds: 30, attempts: 3, backoffSeconds: 0.05, coalesceMs: 50, ...settings },
      verifyAfterRemount: async () => FRESH,
      killGraceMs: 200,
      ...rest,
    });
    r.on('event', (e) => events.push(e));
    remounter = r;
    return r;
  }
  const ofType = <T extends RemountEvent['type']>(type: T) => events.filter((e): e is Extract<RemountEvent, { type: T }> => e.type === type);

  it('runs the command with the merged store dir as its last argument and LIBMOUNT_FORCE_MOUNT2=always, then clears the flag', async () => {
    const hook = writeHook(dir, 'ok', 'echo remounted; exit 0');
    const r = make(hook, { settings: { command: [hook.path, '--extra'] } });
    const outcome = await r.request({ source: 'manual', by: 'test' });
    assert.deepEqual(hook.calls(), [`always 2 --extra ${join(dir, 'merged')}`]);
    assert.equal(outcome.status, 'remounted');
    assert.equal(outcome.fresh, true);
    assert.equal(outcome.lastAttempt?.stdout.text, 'remounted\n');
    assert.equal(existsSync(remountNeededPath(join(dir, 'state'))), false);
    assert.deepEqual(
      events.map((e) => e.type),
      ['remount-requested', 'remount-started', 'remount-succeeded', 'remount-verified'],
    );
  });

  it('retries a hook that exits 1 `attempts` times with growing backoff, reports it, and stays alive', async () => {
    const hook = writeHook(dir, 'fail', 'echo "no such mount" >&2; exit 1');
    const r = make(hook);
    const outcome = await r.request({ source: 'probe', path: '/nix/store/x', symptom: 'estale' });
    assert.equal(hook.calls().length, 3);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.fresh, false);
    assert.equal(outcome.attempts, 3);
    assert.equal(outcome.error?.code, 'REMOUNT_COMMAND_FAILED');
    assert.match(outcome.error?.message ?? '', /exited with status 1: no such mount/);
    assert.deepEqual(
      ofType('remount-failed').map((e) => e.retryInMs),
      [50, 100, undefined],
    );
    assert.equal(ofType('remount-gave-up').length, 1);
    // The flag stays persisted with what went wrong, so a restart tries again.
    const flag = readRemountNeeded(remountNeededPath(join(dir, 'state')));
    assert.equal(flag?.attempts, 3);
    assert.equal(flag?.lastError?.code, 'REMOUNT_COMMAND_FAILED');
    assert.deepEqual(r.counters, { requests: 1, coalesced: 0, runs: 1, attempts: 3, failures: 3, gaveUp: 1, remounted: 0, verifiedStale: 0 });

    // Still alive: a later flag starts afresh, and success clears the persisted flag.
    writeFileSync(hook.path, `#!/bin/sh\necho x >> '${hook.log}'\nexit 0\n`);
    const next = await r.request({ source: 'manual', by: 'test' });
    assert.equal(next.status, 'remounted');
    assert.equal(next.run, 2);
    assert.equal(next.attempts, 1);
    assert.equal(hook.calls().length, 4);
    assert.equal(readRemountNeeded(remountNeededPath(join(dir, 'state'))), undefined);
  });

  it('kills a hook that hangs (with its children) at the timeout, retries, and reports it', async () => {
    const pids = join(dir, 'pids');
    const hook = writeHook(dir, 'hang', `sleep 60 & echo $! >> '${pids}'; wait`);
    const r = make(hook, { settings: { timeoutSeconds: 0.3, attempts: 2 } });
    const outcome = await r.request({ source: 'manual', by: 'test' });
    assert.equal(hook.calls().length, 2);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'REMOUNT_COMMAND_TIMED_OUT');
    assert.equal(outcome.lastAttempt?.timedOut, true);
    // The whole process group was killed: no `sleep 60` left running.
    for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
      const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : undefined;
      assert.ok(state === undefined || state === 'Z', `sleep ${pid} still runs (state ${state})`);
    }
    assert.equal((await r.request({ source: 'manual', by: 'still alive' })).attempts, 2);
  });

  it('turns 1,000 requests within the window into exactly one run', async () => {
    const hook = writeHook(dir, 'ok', 'exit 0');
    const r = make(hook, { settings: { coalesceMs: 500 } });
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => r.request({ source: 'watcher', storePath: `p${i}`, upperPath: `/u/p${i}`, lowerPath: `/l/p${i}` })),
    );
    assert.equal(hook.calls().length, 1);
    assert.ok(outcomes.every((o) => o === outcomes[0]));
    assert.equal(outcomes[0]?.requests, 1000);
    assert.equal(r.counters.runs, 1);
    assert.equal(r.counters.coalesced, 999);
  });

  it('makes exactly one follow-up run for any number of requests during a run', async () => {
    const gate = join(dir, 'gate');
    // The first call waits until the test has sent its requests (the gate file appears); later calls pass.
    const hook = writeHook(
      dir,
      'slow',
      `n=$(wc -l < '${join(dir, 'slow.calls')}'); if [ "$n" -eq 1 ]; then while [ ! -e '${gate}' ]; do sleep 0.02; done; fi; exit 0`,
    );
    const r = make(hook);
    const started = new Promise<void>((resolve) => r.on('event', (e) => e.type === 'remount-started' && resolve()));
    const first = r.request({ source: 'nix-hook', mergedStoreDir: join(dir, 'merged') });
    await started;
    const during = Array.from({ length: 50 }, () => r.request({ source: 'manual', by: 'during' }));
    writeFileSync(gate, '');
    const [firstOutcome, ...duringOutcomes] = await Promise.all([first, ...during]);
    assert.equal(hook.calls().length, 2);
    assert.equal(firstOutcome?.run, 1);
    assert.equal(firstOutcome?.requests, 1);
    assert.ok(duringOutcomes.every((o) => o.run === 2 && o.requests === 50));
  });

  it('hands the verifier the requests its run answers, not those that arrived while the command ran', async () => {
    const gate = join(dir, 'gate');
    // The first call waits until the test has sent its second request (the gate file appears); later calls pass.
    const hook = writeHook(
      dir,
      'slow',
      `n=$(wc -l < '${join(dir, 'slow.calls')}'); if [ "$n" -eq 1 ]; then while [ ! -e '${gate}' ]; do sleep 0.02; done; fi; exit 0`,
    );
    const verified: RemountRequest[][] = [];
    const r = make(hook, { verifyAfterRemount: async (requests) => (verified.push([...requests]), FRESH) });
    const started = new Promise<void>((resolve) => r.on('event', (e) => e.type === 'remount-started' && resolve()));
    const before: RemountRequest = { source: 'probe', path: '/nix/store/a', symptom: 'estale' };
    const during: RemountRequest = { source: 'lower-grew', paths: ['/l/b'] };
    const first = r.request(before);
    await started;
    const second = r.request(during);
    writeFileSync(gate, '');
    const outcomes = await Promise.all([first, second]);
    assert.deepEqual(
      outcomes.map((o) => o.run),
      [1, 2],
    );
    assert.deepEqual(verified, [[before], [during]]);
  });

  it('refuses a command others can write, without running it or retrying', async () => {
    const hook = writeHook(dir, 'open', 'exit 0');
    chmodSync(hook.path, 0o777);
    const outcome = await make(hook).request({ source: 'manual', by: 'test' });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'REMOUNT_COMMAND_UNTRUSTED');
    assert.equal(outcome.attempts, 1);
    assert.deepEqual(hook.calls(), []);
  });

  it('retries when the check afterwards still finds the view stale, and keeps the flag', async () => {
    const hook = writeHook(dir, 'ok', 'exit 0');
    let checks = 0;
    const stale = finding('remount.still-stale', 'error', 'still stale after the remount: abc-x', {}, 'remount again');
    const r = make(hook, { verifyAfterRemount: async () => (checks++, { fresh: false, findings: [stale] }) });
    const outcome = await r.request({ source: 'manual', by: 'test' });
    assert.equal(checks, 3);
    assert.equal(hook.calls().length, 3);
    assert.equal(outcome.error?.code, 'REMOUNT_STILL_STALE');
    assert.deepEqual(outcome.findings, [stale]);
    assert.deepEqual(
      ofType('remount-verified').map((e) => e.fresh),
      [false, false, false],
    );
    assert.equal(r.counters.verifiedStale, 3);
    assert.ok(existsSync(remountNeededPath(join(dir, 'state'))));
  });

  it('reports a verifier that throws as a failed attempt', async () => {
    const hook = writeHook(dir, 'ok', 'exit 0');
    const r = make(hook, { settings: { attempts: 1 }, verifyAfterRemount: async () => Promise.reject(new Error('mountinfo unreadable')) });
    const outcome = await r.request({ source: 'manual', by: 'test' });
    assert.equal(outcome.error?.code, 'REMOUNT_VERIFY_FAILED');
    assert.match(outcome.error?.message ?? '', /mountinfo unreadable/);
  });

  it('reports a listener that throws on `error`, and remounts anyway', async () => {
    const hook = writeHook(dir, 'ok', 'exit 0');
    const r = make(hook);
    const errors: string[] = [];
    r.on('error', (e) => errors.push(e.code));
    r.on('event', (e) => {
      if (e.type === 'remount-started') throw new Error('a bug in a listener');
    });
    const outcome = await r.request({ source: 'manual', by: 'test' });
    assert.equal(outcome.status, 'remounted');
    assert.deepEqual(errors, ['REMOUNT_INTERNAL']);
    assert.equal(hook.calls().length, 1);
  });

  it('keeps only the end of a long output', async () => {
    const hook = writeHook(dir, 'loud', `i=0; while [ $i -lt 2000 ]; do echo "line $i of noise" >&2; i=$((i+1)); done; echo last words >&2; exit 3`);
    const outcome = await make(hook, { settings: { attempts: 1 }, maxOutputBytes: 1024 }).request({ source: 'manual', by: 'test' });
    const stderr = outcome.lastAttempt?.stderr;
    assert.ok(stderr !== undefined && Buffer.byteLength(stderr.text) <= 1024 && stderr.droppedBytes > 0);
    assert.ok(stderr.text.endsWith('last words\n'));
    assert.equal(outcome.lastAttempt?.exitCode, 3);
  });

  it('close() kills a running hook within the grace, answers pending requests as cancelled, keeps the flag, and is idempotent', async () => {
    const hook = writeHook(dir, 'hang', 'exec sleep 60');
    const r = make(hook);
    const started = new Promise<void>((resolve) => r.on('event', (e) => e.type === 'remount-started' && resolve()));
    const pending = r.request({ source: 'manual', by: 'test' });
    await started;
    await Promise.all([r.close(2000), r.close(2000)]);
    const outcome = await pending;
    assert.equal(outcome.status, 'cancelled');
    assert.equal(outcome.error?.code, 'REMOUNT_CANCELLED');
    assert.ok(existsSync(remountNeededPath(join(dir, 'state'))));
    await assert.rejects(r.request({ source: 'manual', by: 'late' }), { code: 'REMOUNTER_CLOSED' });
  });

  it('close() during a backoff wait leaves no timer behind', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // Measured after a turn of the event loop, once mocha has armed its own timeout for this test.
    await new Promise((resolve) => setImmediate(resolve));
    const baseline = timers();
    const hook = writeHook(dir, 'fail', 'exit 1');
    const r = make(hook, { settings: { backoffSeconds: 600 } });
    const failed = new Promise<void>((resolve) => r.on('event', (e) => e.type === 'remount-failed' && resolve()));
    const pending = r.request({ source: 'manual', by: 'test' });
    await failed;
    assert.ok(timers() > baseline, 'the backoff timer is armed');
    await r.close();
    assert.equal((await pending).status, 'cancelled');
    assert.equal(timers(), baseline);
    assert.equal(hook.calls().length, 1);
  });

  it('survives a crash: a new Remounter over the same state dir runs the pending remount', async () => {
    const stateDir = join(dir, 'state');
    const hang = writeHook(dir, 'hang', 'exec sleep 60');
    // A real crash: a child process flags a remount, and is SIGKILLed while its hook runs.
    const remountModule = fileURLToPath(new URL('../../agent/remount/index.ts', import.meta.url));
    const script = `
      import { Remounter } from ${JSON.stringify(remountModule)};
      const r = new Remounter({ mergedStoreDir: ${JSON.stringify(join(dir, 'merged'))}, stateDir: ${JSON.stringify(stateDir)},
        settings: { command: [${JSON.stringify(hang.path)}], timeoutSeconds: 60, attempts: 3, backoffSeconds: 1, coalesceMs: 0 },
        verifyAfterRemount: async () => ({ fresh: true, findings: [] }) });
      r.on('event', (e) => { if (e.type === 'remount-started') process.kill(process.pid, 'SIGKILL'); });
      r.request({ source: 'lower-grew', paths: ['/l/abc-new'] });
    `;
    const crashed = spawnSync(process.execPath, ['--input-type=module', '--disable-warning=ExperimentalWarning', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
    const left = readRemountNeeded(remountNeededPath(stateDir));
    assert.equal(left?.attempts, 1);
    assert.deepEqual(
      left?.reasons.map((r) => r.request),
      [{ source: 'lower-grew', paths: ['/l/abc-new'] }],
    );

    const ok = writeHook(dir, 'ok', 'exit 0');
    const r = make(ok);
    const restored = r.start();
    assert.equal(restored?.flag.firstFlaggedAt, left?.firstFlaggedAt);
    const outcome = await restored?.outcome;
    assert.equal(outcome?.status, 'remounted');
    assert.equal(outcome?.requests, 1);
    assert.equal(ok.calls().length, 1);
    assert.equal(readRemountNeeded(remountNeededPath(stateDir)), undefined);
  });

  it('treats an unreadable flag file as a pending remount (safe side) and reports it', async () => {
    mkdirSync(join(dir, 'state'));
    writeFileSync(remountNeededPath(join(dir, 'state')), 'not json');
    const ok = writeHook(dir, 'ok', 'exit 0');
    const r = make(ok);
    const errors: string[] = [];
    r.on('error', (e) => errors.push(e.code));
    const restored = r.start();
    assert.deepEqual(errors, ['STATE_CORRUPT']);
    assert.equal((await restored?.outcome)?.status, 'remounted');
    assert.equal(ok.calls().length, 1);
    assert.equal(existsSync(remountNeededPath(join(dir, 'state'))), false);
  });
});
