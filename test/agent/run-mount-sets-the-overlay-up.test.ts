/**
 * `overlay-warden run --mount` (the sidecar's entrypoint): the agent sets the overlay up itself before it starts, so
 * it comes up valid on a store nothing mounted; started again on a mounted store, it leaves the mount alone.
 */
import assert from 'node:assert/strict';
import { AgentScenario } from '../support/agent-child.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

/** An agent scenario whose overlay nothing has mounted (then `unmounted`, bash in its namespace, runs). */
async function unmountedScenario(ctx: Mocha.Context, unmounted = ''): Promise<AgentScenario> {
  requireNixOverlayFixture(ctx);
  const scenario = await AgentScenario.create();
  scenario.writeConfig();
  scenario.unmountOverlay();
  if (unmounted !== '') scenario.ns.bash(unmounted);
  return scenario;
}

describe('run --mount sets the overlay up before the agent starts', function () {
  this.timeout(180_000);
  let s: AgentScenario | undefined;

  before(async function () {
    s = await unmountedScenario(this);
  });
  after(async () => s?.close());

  it('mounts a store nothing mounted, and the agent then finds it valid', async () => {
    assert.equal(s!.ns.bash('findmnt -n -o FSTYPE --mountpoint "$B/nix/store" || true').trim(), '', 'nothing mounted before');
    const agent = await s!.startAgent(s!.configFile, ['--mount']);
    const mounted = await agent.waitForLog(
      (l) => /^--mount: mounted the store overlay: LIBMOUNT_FORCE_MOUNT2=always mount -t overlay/.test(l.message),
      'the mount',
    );
    assert.equal(mounted['status'], 'mounted');
    const status = await s!.waitForStatus((st) => st.mountValid, 'a valid mount', agent);
    assert.ok(status.lastCheck?.findings.some((f) => f.id === 'mount.ok'));
    assert.equal(s!.ns.bash('findmnt -n -o FSTYPE --mountpoint "$B/nix/store"').trim(), 'overlay');
    await agent.kill();
  });

  it('started again on the mounted store: leaves it alone (one mount, not two)', async () => {
    const agent = await s!.startAgent(s!.configFile, ['--mount']);
    await agent.waitForLog((l) => l.message === '--mount: the store overlay is already mounted as configured', 'the mount left alone');
    await s!.waitForStatus((st) => st.mountValid, 'a valid mount', agent);
    assert.equal(s!.ns.bash('findmnt -n -o FSTYPE --mountpoint "$B/nix/store"').trim(), 'overlay');
    await agent.kill();
  });
});

describe('run --mount without a lower store', function () {
  this.timeout(180_000);
  let s: AgentScenario | undefined;

  before(async function () {
    s = await unmountedScenario(this, 'mv "$A/nix/store" "$A/nix/store.attaching"');
  });
  after(async () => s?.close());

  it('says why it could not mount, mounts nothing, and exits for its supervisor to restart it', async () => {
    const agent = s!.spawnAgent(s!.configFile, ['--mount']);
    const failed = await agent.waitForLog((l) => l.message.startsWith('--mount: the overlay could not be set up:'), 'the failed set-up');
    assert.match(failed.message, /the lower store's store dir \S+\/lower\/nix\/store does not exist/);
    assert.equal(failed['code'], 'MOUNT_SETUP_LOWER_MISSING');
    assert.equal((await agent.exited).code, 1);
    assert.equal(s!.ns.bash('findmnt -n -o FSTYPE --mountpoint "$B/nix/store" || true').trim(), '');
  });
});
