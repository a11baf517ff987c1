/** `demo --lower-daemon`: the tour with its lower store served by Nix's own nix-daemon, and that daemon gone afterwards. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AS_NOBODY } from '../support/as-nobody.ts';
import { CLI_MAIN, runCliProcess } from '../support/cli-run.ts';
import { parseEnvelope, type Envelope } from '../support/json-output.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

interface DemoStep {
  argv: string[];
  exitCode: number;
  asExpected: boolean;
  differences: string[];
  output: Envelope;
}

/** Pids of the processes whose command line names `text` (a demo daemon's names the demo dir). */
function processesNaming(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // It exited meanwhile.
    }
  }
  return found;
}

describe('overlay-warden demo --lower-daemon', function () {
  this.timeout(180_000);

  before(function () {
    requireRoot(this);
    requireCommand(this, 'unshare');
    requireCommand(this, 'nix-daemon');
  });

  it('tours the store with its lower store behind a nix-daemon, to the end, and stops the daemon', function () {
    const run = runCliProcess(['demo', '--lower-daemon', '--json', '--lower-paths', '30', '--upper-paths', '8']);
    const envelope = parseEnvelope(run.stdout, 'demo');
    const result = envelope.result as {
      dir: string;
      store: { url: string; lowerDaemon: { socket: string; nixVersion: string | null; protocol: string } | null };
      steps: DemoStep[];
      agentTour: { ok: boolean; checks: Array<{ what: string; asExpected: boolean }> };
      next: string[];
    };
    const { dir } = result;
    // The daemon was Nix's, on a socket in the demo dir, and the store URL names it (%-escaped) with the lower store dir.
    assert.deepEqual(result.store.lowerDaemon, { socket: path.join(dir, 'daemon.sock'), nixVersion: result.store.lowerDaemon?.nixVersion, protocol: '1.34' });
    assert.match(result.store.lowerDaemon?.nixVersion ?? '', /^2\.8/);
    assert.ok(
      result.store.url.includes(`&lower-store=${encodeURIComponent(`unix://${dir}/daemon.sock?real=${dir}/store/lower/nix/store`)}&`),
      result.store.url,
    );
    assert.match(run.stderr, /Starting Nix's nix-daemon --store \S+\/store\/lower/);
    assert.match(run.stderr, /Stopped the demo's nix-daemon \(pid \d+\)/);

    const step = (name: string): DemoStep => result.steps.find((s) => s.argv[0] === name)!;
    for (const name of ['layout', 'check', 'status']) assert.ok(step(name).asExpected, `${name}: ${step(name).differences.join('; ')}`);
    // check shook hands with the daemon through the URL's socket.
    const daemonLine = step('check').output.findings.filter((f) => f.id === 'layer.lower-daemon');
    assert.deepEqual(
      daemonLine.map((f) => [f.evidence['socket'], f.evidence['protocol']]),
      [[path.join(dir, 'daemon.sock'), '1.34']],
    );
    // audit and verify read the lower metadata through the daemon, and find what they find through the DB.
    for (const name of ['audit', 'verify']) assert.ok(step(name).asExpected, `${name}: ${step(name).differences.join('; ')}`);
    const paths = (name: string, id: string): unknown[] =>
      step(name)
        .output.findings.filter((f) => f.id === id)
        .map((f) => f.evidence['path']);
    assert.equal(paths('audit', 'store.masked').length, 1);
    assert.deepEqual(paths('verify', 'store.masked'), paths('audit', 'store.masked'));
    assert.equal(paths('verify', 'store.corrupt').length, 1);
    // The agent part ran to its end: drift seen and remounts verified with the daemon lower store.
    assert.equal(result.agentTour.checks.length, 2);
    for (const c of result.agentTour.checks) assert.ok(c.asExpected, c.what);
    assert.ok(result.next.length > 0);
    assert.equal(result.agentTour.ok, true);
    assert.equal(run.status, 0, run.stderr);

    // Nothing left: no daemon (nor worker) naming the demo dir, no socket, no demo dir.
    assert.deepEqual(processesNaming(dir), []);
    assert.equal(existsSync(dir), false);
  });

  it('Ctrl-C during the tour: the demo stops, and so does its daemon', async function () {
    const child = spawn(process.execPath, [CLI_MAIN, 'demo', '--lower-daemon', '--lower-paths', '30', '--upper-paths', '8'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Interrupted once the daemon serves the store and the tour has started inside the namespace.
    await new Promise<void>((resolve, reject) => {
      const onData = (): void => {
        if (/\$ overlay-warden layout/.test(out)) resolve();
      };
      child.stdout.on('data', onData);
      void exited.then(() => reject(new Error(`the demo exited before its tour began:\n${out}`)));
    });
    const dir = /in (\/\S+overlay-warden-demo-\w+) …/.exec(out)?.[1];
    assert.ok(dir, out);
    assert.ok(processesNaming(dir).length > 0, 'the daemon runs during the tour');
    child.kill('SIGINT');
    assert.notEqual(await exited, 0, out);
    assert.match(out, /Stopped the demo's nix-daemon/);
    assert.deepEqual(processesNaming(dir), [], out);
    assert.equal(existsSync(dir), false);
  });

  it('without root: the daemon runs as the demo user, in a user namespace, and the tour comes out as expected', function () {
    const run = runCliProcess(['demo', '--lower-daemon', '--lower-paths', '10', '--upper-paths', '3'], {
      prefix: AS_NOBODY,
      env: { ...process.env, TMPDIR: '/tmp', HOME: '/tmp' },
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /inside a user namespace \(no root needed\)/);
    assert.match(run.stdout, /layer\.lower-daemon: the lower store's metadata comes from the nix-daemon at/);
    assert.match(run.stdout, /Every step came out as expected/);
    const dir = /in (\/\S+overlay-warden-demo-\w+) …/.exec(run.stdout)?.[1];
    assert.ok(dir);
    assert.deepEqual(processesNaming(dir), []);
  });

  it('without nix-daemon on PATH: a clear error naming what to install, and nothing left behind', function () {
    const run = runCliProcess(['demo', '--lower-daemon', '--lower-paths', '10', '--upper-paths', '3'], {
      env: { ...process.env, PATH: path.dirname(process.execPath) },
    });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /--lower-daemon needs nix-daemon, and none is on PATH \[DEMO_NIX_DAEMON_MISSING\]/);
    assert.match(run.stderr, /apt-get install nix-bin/);
    const dir = /in (\/\S+overlay-warden-demo-\w+) …/.exec(run.stdout)?.[1];
    assert.ok(dir, run.stdout);
    assert.equal(existsSync(dir), false);
  });
});
