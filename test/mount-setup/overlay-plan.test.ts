/** The pure parts of `mount`: the plan and its command, the new upper layer's mode, and the nix.conf lines. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { MountSetupError, nixConfForStore, planOverlay, predictNixCheckMount, shellQuote, upperLayerMode } from '../../agent/mount-setup/index.ts';
import { parseStoreUrl, resolveStoreLayout, type StoreLayout } from '../../agent/store/index.ts';

const layoutOf = (url: string): StoreLayout => resolveStoreLayout(parseStoreUrl(url));
const LAYOUT = layoutOf('local-overlay://?root=/srv/merged&lower-store=%2Fsrv%2Flower%3Fread-only%3Dtrue&upper-layer=/srv/layers/upper');
const mount = (settings: { workDir?: string; extraLowerDirs?: string[]; options?: string[] } = {}) => ({
  extraLowerDirs: [],
  options: [],
  ...settings,
});

describe('planOverlay', () => {
  it('stacks the extra lower dirs above the lower store, the work dir beside the upper layer by default', () => {
    const plan = planOverlay({ layout: LAYOUT, mount: mount({ extraLowerDirs: ['/srv/extra/'], options: ['xino=off'] }) });
    assert.deepEqual(plan.spec, {
      lowerDirs: ['/srv/extra', '/srv/lower/nix/store'],
      upperDir: '/srv/layers/upper',
      workDir: '/srv/layers/work',
      mergedDir: '/srv/merged/nix/store',
      extraOptions: ['xino=off'],
    });
    assert.equal(plan.workDirSource, 'default');
    assert.deepEqual(plan.argv, [
      'mount',
      '-t',
      'overlay',
      'overlay',
      '-o',
      'lowerdir=/srv/extra:/srv/lower/nix/store,upperdir=/srv/layers/upper,workdir=/srv/layers/work,xino=off',
      '/srv/merged/nix/store',
    ]);
    assert.equal(plan.shellCommand, `LIBMOUNT_FORCE_MOUNT2=always ${plan.argv.join(' ')}`);
  });

  it('refuses overlapping writable layers, naming both and the setting to change', () => {
    const cases: Array<[string, ReturnType<typeof mount>]> = [
      ['work dir inside the upper layer', mount({ workDir: '/srv/layers/upper/w' })],
      ['upper layer inside the work dir', mount({ workDir: '/srv/layers' })],
      ['work dir inside a lower layer', mount({ workDir: '/srv/lower/nix/store/w' })],
      ['work dir is the merged dir', mount({ workDir: '/srv/merged/nix/store' })],
      ['extra lower dir inside the upper layer', mount({ extraLowerDirs: ['/srv/layers/upper/x'] })],
    ];
    for (const [name, settings] of cases) {
      assert.throws(
        () => planOverlay({ layout: LAYOUT, mount: settings }),
        (e: unknown) => e instanceof MountSetupError && e.code === 'MOUNT_SETUP_LAYOUT' && /overlap/.test(e.message),
        name,
      );
    }
    // An upper layer named `work`: the default work dir would be the upper layer itself.
    const named = layoutOf('local-overlay://?root=/srv/merged&lower-store=/srv/lower&upper-layer=/srv/work');
    assert.throws(
      () => planOverlay({ layout: named, mount: mount() }),
      (e: unknown) => e instanceof MountSetupError && /^set mount\.workDir/.test(e.hint ?? ''),
    );
    // A store overlaid onto its own store dir is fine (only the writable layers must stand apart).
    const onItself = layoutOf('local-overlay://?lower-store=local&upper-layer=/srv/layers/upper');
    assert.equal(planOverlay({ layout: onItself, mount: mount() }).spec.mergedDir, '/nix/store');
  });
});

describe('shellQuote', () => {
  it('gives back every argument unchanged through sh', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary', minLength: 0, maxLength: 12 }).filter((s) => !s.includes('\0')),
          { maxLength: 4 },
        ),
        (words) => {
          const result = spawnSync('sh', ['-c', `for a in ${words.map(shellQuote).join(' ')}; do printf '%s\\0' "$a"; done`], { encoding: 'utf8' });
          const printed = result.stdout === '' ? [] : result.stdout.split('\0').slice(0, -1);
          assert.deepEqual(printed, words);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('upperLayerMode', () => {
  it('copies the lower store dir’s owner and mode, without write for others, and group write only with the sticky bit', () => {
    assert.deepEqual(upperLayerMode({ mode: 0o41775, uid: 0, gid: 30000 }), { mode: 0o1775, uid: 0, gid: 30000 });
    assert.deepEqual(upperLayerMode({ mode: 0o40777, uid: 0, gid: 0 }), { mode: 0o755, uid: 0, gid: 0 });
    assert.deepEqual(upperLayerMode({ mode: 0o41777, uid: 0, gid: 0 }), { mode: 0o1775, uid: 0, gid: 0 });
    assert.deepEqual(upperLayerMode({ mode: 0o40555, uid: 0, gid: 0 }), { mode: 0o555, uid: 0, gid: 0 });
  });
});

describe('nixConfForStore and predictNixCheckMount', () => {
  const hook = '/opt/overlay-warden/hooks/nix-remount-hook';
  it('a plain mount: Nix would accept it, so check-mount stays on; the URL parses back with the hook', () => {
    const plan = planOverlay({ layout: LAYOUT, mount: mount() });
    const verdict = predictNixCheckMount(plan.spec, LAYOUT);
    assert.equal(verdict.accepted, true);
    const conf = nixConfForStore({ layout: LAYOUT, remountHook: hook, verdict, verdictSource: 'planned mount', mountAsConfigured: true });
    assert.equal(conf.checkMountOff, false);
    assert.equal(
      conf.storeUrl,
      'local-overlay://?root=/srv/merged&lower-store=/srv/lower%3Fread-only%3Dtrue&upper-layer=/srv/layers/upper&remount-hook=/opt/overlay-warden/hooks/nix-remount-hook',
    );
    const parsed = parseStoreUrl(conf.storeUrl);
    assert.ok(parsed.kind === 'local-overlay');
    assert.deepEqual([parsed.lowerStore.url, parsed.remountHook, parsed.checkMount], ['/srv/lower?read-only=true', hook, true]);
    assert.match(conf.text, /^extra-experimental-features = local-overlay-store$/m);
    assert.match(conf.text, new RegExp(`^store = ${conf.storeUrl.replace(/[?.*+]/g, '\\$&')}$`, 'm'));
  });

  it('extra lower layers, or a path Nix reads as a pattern with a space: check-mount=false, saying why', () => {
    const extra = planOverlay({ layout: LAYOUT, mount: mount({ extraLowerDirs: ['/srv/extra'] }) });
    const spaced = layoutOf('local-overlay://?root=/srv/merged&lower-store=%2Fsrv%2Flow%20er&upper-layer=/srv/layers/upper');
    for (const [layout, spec] of [
      [LAYOUT, extra.spec],
      [spaced, planOverlay({ layout: spaced, mount: mount() }).spec],
    ] as const) {
      const verdict = predictNixCheckMount(spec, layout);
      assert.equal(verdict.accepted, false);
      const conf = nixConfForStore({ layout, remountHook: hook, verdict, verdictSource: 'planned mount', mountAsConfigured: true });
      assert.equal(conf.checkMountOff, true);
      assert.match(conf.storeUrl, /&check-mount=false$/);
      assert.match(conf.text, /# check-mount: Nix's own check-mount would refuse this mount \(it looks for 'lowerdir=/);
    }
  });

  it('a wrong mount keeps check-mount on: Nix refuses it rightly', () => {
    const verdict = predictNixCheckMount(planOverlay({ layout: LAYOUT, mount: mount({ extraLowerDirs: ['/x'] }) }).spec, LAYOUT);
    const conf = nixConfForStore({ layout: LAYOUT, remountHook: hook, verdict, verdictSource: 'mount table', mountAsConfigured: false });
    assert.equal(conf.checkMountOff, false);
    assert.doesNotMatch(conf.storeUrl, /check-mount/);
    assert.match(conf.checkMountReason, /rightly/);
  });
});
