import assert from 'node:assert/strict';
import { runCliCaptured } from '../support/cli-run.ts';

const URL = 'local-overlay?lower-store=%2Fmnt%2Fcacache%3Fread-only%3Dtrue&upper-layer=/mnt/nix/store&check-mount=false';

describe('runCli', () => {
  it('lists the commands and exits 2 without a command', async () => {
    const run = await runCliCaptured([]);
    assert.equal(run.code, 2);
    assert.match(run.stdout, /layout/);
    assert.match(run.stdout, /demo/);
  });

  it('rejects an unknown command with exit 2 and names the commands', async () => {
    const run = await runCliCaptured(['frobnicate']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown command "frobnicate"/);
    assert.match(run.stderr, /hint: commands: .*layout/);
  });

  it('rejects an unknown flag with exit 2, as JSON with --json', async () => {
    const run = await runCliCaptured(['layout', '--json', '--frob']);
    assert.equal(run.code, 2);
    assert.equal(JSON.parse(run.stdout).error.code, 'USAGE_UNKNOWN_OPTION');
  });

  it('exits 2 on bad configuration, naming the source', async () => {
    const run = await runCliCaptured(['layout', '--store', 'local-overlay://?lower-store=/l'], {});
    assert.equal(run.code, 2);
    assert.match(run.stderr, /upper-layer/);
    assert.match(run.stderr, /CONFIG_STORE/);
  });

  it('prints per-command help with the common options', async () => {
    const run = await runCliCaptured(['demo', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /--lower-paths N/);
    assert.match(run.stdout, /--nix-conf FILE/);
  });

  it('takes OVERLAY_WARDEN_STORE from the environment', async () => {
    const run = await runCliCaptured(['layout', '--json'], { OVERLAY_WARDEN_STORE: URL });
    assert.equal(run.code, 0);
    assert.equal(JSON.parse(run.stdout).result.layout.upperLayer, '/mnt/nix/store');
  });
});
