import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';

describe('overlay-warden layout', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ow-layout-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints every resolved part of the store as JSON', async () => {
    const run = await runCliCaptured([
      'layout',
      '--json',
      '--state-dir',
      '/srv/ow',
      '--store',
      'local-overlay://?root=/merged&lower-store=%2Flower%3Fread-only%3Dtrue&upper-layer=/upper&remount-hook=/bin/true',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const out = reportOf(run.stdout, 'layout');
    assert.deepEqual(
      { ...out.layout, lower: { ...out.layout.lower } },
      {
        url: 'local-overlay://?root=/merged&lower-store=%2Flower%3Fread-only%3Dtrue&upper-layer=/upper&remount-hook=/bin/true',
        storeDir: '/nix/store',
        mergedStoreDir: '/merged/nix/store',
        stateDir: '/merged/nix/var/nix',
        upperDb: '/merged/nix/var/nix/db/db.sqlite',
        upperLayer: '/upper',
        lower: {
          url: '/lower?read-only=true',
          kind: 'local',
          storeDir: '/nix/store',
          realStoreDir: '/lower/nix/store',
          stateDir: '/lower/nix/var/nix',
          db: '/lower/nix/var/nix/db/db.sqlite',
          readOnly: true,
        },
        checkMount: true,
        remountHook: '/bin/true',
      },
    );
    assert.equal(out.stateDir, '/srv/ow');
  });

  it('reads the store from a nix.conf given with --nix-conf and says where', async () => {
    const conf = join(dir, 'nix.conf');
    writeFileSync(conf, 'store = local-overlay://?upper-layer=/rw/nix/store&lower-store=daemon\n');
    const run = await runCliCaptured(['layout', '--nix-conf', conf]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /upper layer\s+\/rw\/nix\/store/);
    assert.match(run.stdout, /lower DB\s+none: metadata comes from the daemon/);
    assert.match(run.stdout, new RegExp(`described by\\s+${conf}:1`));
  });
});
