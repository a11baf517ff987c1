/**
 * SIGHUP to `overlay-warden run`: a valid new configuration replaces the running one (here: log level debug, another
 * remount window); a broken one is rejected with an error naming the problem, and the agent goes on with the old.
 * So is one whose nix.conf includes a FIFO nobody writes to or /dev/zero, which once blocked the agent's event loop
 * forever (no status, SIGTERM ignored) or read until memory ran out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requestControl } from '../../agent/control/index.ts';
import { AgentScenario, remountLine, type AgentChild } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';

describe('agent: SIGHUP reloads the configuration', function () {
  let s: AgentScenario | undefined;
  let agent: AgentChild;
  let startedAt: string;
  /** What `overlay-warden status` is run with: the agent's own file is made invalid below. */
  let clientConfig: string;

  before(async function () {
    requireNixOverlayFixture(this);
    s = await AgentScenario.create();
    s.writeConfig({ log: { level: 'info' } });
    clientConfig = s.writeConfig({}, `${s.configFile}.client`);
    agent = await s.startAgent();
    // Answering status means start-up is over and the SIGHUP handler is installed.
    startedAt = (await s.status(clientConfig)).startedAt;
  });
  after(async () => s?.close());

  /** Asks for a remount without waiting; its `remount-requested` event is logged at debug level. */
  async function flag(by: string): Promise<void> {
    const answer = await requestControl(s!.socket, { action: 'remount', source: 'manual', by, wait: false }, { timeoutMs: 10_000 });
    assert.equal(answer.ok, true, JSON.stringify(answer));
  }

  it('at level info, debug lines are not logged', async () => {
    await flag('before the reload');
    await agent.waitForLog(remountLine('remount-verified'), 'the first remount');
    assert.equal(agent.lines((l) => l.level === 'debug').length, 0);
  });

  it('a valid new configuration is loaded: the agent restarts with it (debug lines now appear)', async () => {
    s!.writeConfig({ log: { level: 'debug' }, remount: { coalesceMs: 300 } });
    const mark = agent.log.length;
    agent.child.kill('SIGHUP');
    await agent.waitForLog((l) => /^configuration reloaded/.test(l.message), 'the reload', { from: mark });
    const status = await s!.waitForStatus((st) => st.startedAt !== startedAt, 'a restarted agent to answer', agent, clientConfig);
    startedAt = status.startedAt;
    await flag('after the reload');
    const requested = await agent.waitForLog((l) => remountLine('remount-requested')(l), 'a debug remount-requested line', { from: mark });
    assert.equal(requested.level, 'debug');
    await agent.waitForLog(remountLine('remount-verified'), 'the remount after the reload', { from: mark });
    assert.ok(agent.running);
  });

  it('a broken configuration is rejected with an error, and the running one is kept', async () => {
    fs.writeFileSync(s!.configFile, '{"store": {"url": "local-overlay://?root=/nowhere"}, "remount": {"attempts": 0}, "log": {"level": "loud"}}\n', {
      mode: 0o600,
    });
    const mark = agent.log.length;
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => /^configuration reload rejected/.test(l.message), 'the rejection', { from: mark });
    assert.equal(rejected.level, 'error');
    assert.equal(rejected['code'], 'CONFIG_INVALID');
    assert.match(rejected.message, /remount\.attempts/);
    assert.match(rejected.message, /log\.level/);
    // Still the same agent, still answering, still at debug level.
    const status = await s!.status(clientConfig);
    assert.equal(status.startedAt, startedAt, 'not restarted');
    assert.ok(agent.running);
    await flag('after the rejected reload');
    await agent.waitForLog((l) => remountLine('remount-requested')(l) && l.level === 'debug', 'a debug line under the kept configuration', { from: mark });
  });

  it('a configuration that loads but cannot start (unsafe socket dir): logged, and the agent goes on with the previous one', async () => {
    const unsafe = `${s!.fixture.dir}/unsafe-run`;
    fs.mkdirSync(unsafe, { mode: 0o777 });
    fs.chmodSync(unsafe, 0o777);
    s!.writeConfig({ log: { level: 'debug' }, control: { socket: `${unsafe}/control.sock` } });
    const mark = agent.log.length;
    agent.child.kill('SIGHUP');
    const refused = await agent.waitForLog((l) => /^the agent could not start with the reloaded configuration/.test(l.message), 'the failed start', {
      from: mark,
    });
    assert.equal(refused['code'], 'CONTROL_DIR_UNSAFE');
    const status = await s!.waitForStatus((st) => st.startedAt !== startedAt, 'the agent restarted with the previous configuration', agent, clientConfig);
    startedAt = status.startedAt;
    assert.ok(agent.running);
    assert.equal(fs.existsSync(`${unsafe}/control.sock`), false);
  });

  /** Points the agent's configuration at a nix.conf with `include` as its second line, sends SIGHUP, expects the rejection. */
  async function rejectedInclude(include: string): Promise<void> {
    const nixConf = path.join(s!.fixture.dir, 'nix.conf');
    fs.writeFileSync(nixConf, `store = ${s!.fixture.storeUrl}\n${include}\n`, { mode: 0o644 });
    s!.writeConfig({ store: { url: undefined, nixConf }, log: { level: 'debug' } });
    const mark = agent.log.length;
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => /^configuration reload rejected/.test(l.message), 'the rejection', { from: mark });
    assert.equal(rejected['code'], 'CONFIG_STORE');
    assert.match(rejected.message, new RegExp(`${nixConf}:2: .*not a regular file`));
    assert.equal((await s!.status(clientConfig)).startedAt, startedAt, 'not restarted');
    assert.ok(agent.running);
  }

  it('a nix.conf that !includes a FIFO is rejected at once, and the agent still answers', async function () {
    requireCommand(this, 'mkfifo');
    const fifo = path.join(s!.fixture.dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    await rejectedInclude(`!include ${fifo}`);
  });

  it('a nix.conf that includes /dev/zero is rejected at once', async () => {
    await rejectedInclude('include /dev/zero');
  });

  it('YAML that does not parse is rejected too; SIGTERM then stops the agent with exit 0', async () => {
    fs.writeFileSync(s!.configFile, 'store: [unclosed\n', { mode: 0o600 });
    const mark = agent.log.length;
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog((l) => /^configuration reload rejected/.test(l.message), 'the rejection', { from: mark });
    assert.equal(rejected['code'], 'CONFIG_SYNTAX');
    assert.equal((await s!.status(clientConfig)).startedAt, startedAt);
    assert.deepEqual(await agent.stop('SIGTERM', 5000), { code: 0, signal: null });
  });
});
