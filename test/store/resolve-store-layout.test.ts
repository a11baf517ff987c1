import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  parseStoreUrl,
  resolveLowerStoreLayout,
  resolveStoreLayout,
  StoreLayoutError,
  type StoreLayout,
  type StoreLayoutErrorCode,
} from '../../agent/store/index.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';

const layoutOf = (text: string, env?: Record<string, string | undefined>): StoreLayout => resolveStoreLayout(parseStoreUrl(text), env);

function layoutError(text: string, code: StoreLayoutErrorCode, env?: Record<string, string>): StoreLayoutError {
  let caught: unknown;
  try {
    layoutOf(text, env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof StoreLayoutError, `${text}: expected StoreLayoutError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

/** An OverlayFS mount as `mount -t overlay` sets it up: mount point, lowerdir, upperdir. */
interface OverlayMount {
  readonly mountPoint: string;
  readonly lowerdir: string;
  readonly upperdir: string;
}

/** The parts of `layout` that disagree with `mount`, each with the layout's value. */
function mismatches(layout: StoreLayout, mount: OverlayMount): Record<string, string> {
  const out: Record<string, string> = {};
  if (layout.mergedStoreDir !== mount.mountPoint) out['merged'] = layout.mergedStoreDir;
  if (layout.lower.realStoreDir !== mount.lowerdir) out['lower'] = layout.lower.realStoreDir;
  if (layout.upperLayer !== mount.upperdir) out['upper'] = layout.upperLayer;
  return out;
}

describe('resolveStoreLayout', () => {
  it("resolves Replit's URL to the dirs of Replit's mount", () => {
    const layout = layoutOf('local-overlay?lower-store=%2Fmnt%2Fcacache%3Fread-only%3Dtrue&upper-layer=/mnt/nix/store&check-mount=false');
    // Derived by hand from Nix's settings: no root or real, so the merged dir is the store dir; no state, so
    // the default state dir; the lower store is a local store rooted at /mnt/cacache.
    assert.deepEqual(layout, {
      url: 'local-overlay?lower-store=%2Fmnt%2Fcacache%3Fread-only%3Dtrue&upper-layer=/mnt/nix/store&check-mount=false',
      storeDir: '/nix/store',
      mergedStoreDir: '/nix/store',
      stateDir: '/nix/var/nix',
      upperDb: '/nix/var/nix/db/db.sqlite',
      upperLayer: '/mnt/nix/store',
      lower: {
        url: '/mnt/cacache?read-only=true',
        kind: 'local',
        storeDir: '/nix/store',
        realStoreDir: '/mnt/cacache/nix/store',
        stateDir: '/mnt/cacache/nix/var/nix',
        db: '/mnt/cacache/nix/var/nix/db/db.sqlite',
        readOnly: true,
        daemonSocket: undefined,
      },
      checkMount: false,
      remountHook: undefined,
    });
    // Replit's mount (DOMAIN.md): its first lowerdir is the lower store dir, its upperdir the upper layer.
    const replit = 'lowerdir=/mnt/cacache/nix/store:/mnt/nixmodules/nix/store:/nix/store,upperdir=/mnt/nix/store,workdir=/mnt/nix/work/store';
    const options = Object.fromEntries(replit.split(',').map((o) => o.split('=') as [string, string]));
    assert.equal(options['lowerdir']?.split(':')[0], layout.lower.realStoreDir);
    assert.equal(options['upperdir'], layout.upperLayer);
    assert.ok(Object.isFrozen(layout) && Object.isFrozen(layout.lower));
  });

  describe("Nix's local-overlay-store functional tests", () => {
    // common.sh's setupStoreDirs, with TEST_ROOT at a fixed place (any absolute path works).
    const testRoot = '/tmp/nix-test/local-overlay-store/bad-uris';
    const storeVolume = `${testRoot}/stores`;
    const storeA = `${storeVolume}/store-a`;
    const storeBTop = `${storeVolume}/store-b`;
    const storeBRoot = `${storeVolume}/merged-store`;
    const storeB = `local-overlay://?root=${storeBRoot}&lower-store=${storeA}&upper-layer=${storeBTop}`;
    // common.sh's mountOverlayfs.
    const mount: OverlayMount = { mountPoint: `${storeBRoot}/nix/store`, lowerdir: `${storeA}/nix/store`, upperdir: storeBTop };

    it("resolves common.sh's storeB to the overlay mountOverlayfs sets up", () => {
      const layout = layoutOf(storeB);
      assert.deepEqual(mismatches(layout, mount), {});
      assert.equal(layout.stateDir, `${storeBRoot}/nix/var/nix`);
      assert.equal(layout.upperDb, `${storeBRoot}/nix/var/nix/db/db.sqlite`);
      assert.equal(layout.lower.db, `${storeA}/nix/var/nix/db/db.sqlite`);
      assert.equal(layout.checkMount, true);
      assert.equal(layout.remountHook, undefined);
      assert.equal(layoutOf(`${storeB}&remount-hook=/src/remount.sh`).remountHook, '/src/remount.sh');
    });

    // bad-uris.sh: each URL parses, but one part points away from the mount.
    const badTestRoot = `${testRoot}/bad_test`;
    const bad: ReadonlyArray<readonly [string, string, Record<string, string>]> = [
      ['storeBadRoot', `local-overlay://?root=${badTestRoot}&lower-store=${storeA}&upper-layer=${storeBTop}`, { merged: `${badTestRoot}/nix/store` }],
      ['storeBadLower', `local-overlay://?root=${storeBRoot}&lower-store=${badTestRoot}&upper-layer=${storeBTop}`, { lower: `${badTestRoot}/nix/store` }],
      ['storeBadUpper', `local-overlay://?root=${storeBRoot}&lower-store=${storeA}&upper-layer=${badTestRoot}`, { upper: badTestRoot }],
    ];
    for (const [name, url, wrong] of bad) {
      it(`resolves bad-uris.sh's ${name} to a layout whose ${Object.keys(wrong).join()} part is not the mount's`, () => {
        assert.deepEqual(mismatches(layoutOf(url), mount), wrong);
      });
    }
  });

  it('takes `real` over ROOT/nix/store, `state` over ROOT/nix/var/nix, and ignores `store` for the real dir when root is set (as Nix does)', () => {
    assert.equal(layoutOf('local-overlay://?root=/r&real=/merged&upper-layer=/u').mergedStoreDir, '/merged');
    const state = layoutOf('local-overlay://?root=/r&state=/st&upper-layer=/u');
    assert.equal(state.stateDir, '/st');
    assert.equal(state.upperDb, '/st/db/db.sqlite');
    const rooted = layoutOf('local-overlay://?root=/r&store=/other/store&upper-layer=/u');
    assert.equal(rooted.storeDir, '/other/store');
    assert.equal(rooted.mergedStoreDir, '/r/nix/store');
    assert.equal(layoutOf('local-overlay://?store=/other/store&upper-layer=/u').mergedStoreDir, '/other/store');
  });

  it('takes defaults from NIX_STORE_DIR (else NIX_STORE) and NIX_STATE_DIR, ignoring empty values', () => {
    const env = { NIX_STORE_DIR: '/custom/store/', NIX_STATE_DIR: '/custom/state' };
    const layout = layoutOf('local-overlay://?upper-layer=/u&lower-store=daemon', env);
    assert.equal(layout.storeDir, '/custom/store');
    assert.equal(layout.mergedStoreDir, '/custom/store');
    assert.equal(layout.upperDb, '/custom/state/db/db.sqlite');
    assert.equal(layout.lower.realStoreDir, '/custom/store');
    assert.equal(layoutOf('local-overlay://?upper-layer=/u', { NIX_STORE_DIR: '', NIX_STORE: '/old/store' }).storeDir, '/old/store');
    assert.equal(layoutOf('local-overlay://?upper-layer=/u', { NIX_STATE_DIR: '' }).stateDir, '/nix/var/nix');
    const error = layoutError('local-overlay://?upper-layer=/u', 'STORE_LAYOUT_BAD_ENV', { NIX_STATE_DIR: 'var/nix' });
    assert.equal(error.evidence['variable'], 'NIX_STATE_DIR');
    assert.equal(error.evidence['value'], 'var/nix');
  });

  it('has no DB for a daemon lower store unless root or state shows where its state is', () => {
    for (const lower of ['daemon', 'unix:///run/nix.sock']) {
      const layout = layoutOf(`local-overlay://?upper-layer=/u&lower-store=${encodeURIComponent(lower)}`);
      assert.equal(layout.lower.kind, 'daemon');
      assert.equal(layout.lower.stateDir, undefined);
      assert.equal(layout.lower.db, undefined);
      assert.equal(layout.lower.realStoreDir, '/nix/store');
      assert.equal(layout.lower.readOnly, false);
    }
    assert.equal(resolveLowerStoreLayout(parseStoreUrl('unix:///x.sock?root=/r')).db, '/r/nix/var/nix/db/db.sqlite');
    assert.equal(resolveLowerStoreLayout(parseStoreUrl('daemon?state=/s')).db, '/s/db/db.sqlite');
  });

  it("names a daemon lower store's socket: the URL's, else NIX_DAEMON_SOCKET_PATH, else STATE/daemon-socket/socket", () => {
    const socketOf = (lower: string, env = {}): string | undefined =>
      layoutOf(`local-overlay://?upper-layer=/u&lower-store=${encodeURIComponent(lower)}`, env).lower.daemonSocket;
    assert.equal(socketOf('unix:///tmp/snix-daemon.sock?real=/r/nix/store', { NIX_DAEMON_SOCKET_PATH: '/other.sock' }), '/tmp/snix-daemon.sock');
    assert.equal(socketOf('daemon', { NIX_DAEMON_SOCKET_PATH: '/run/d.sock' }), '/run/d.sock');
    assert.equal(socketOf('daemon', { NIX_DAEMON_SOCKET_PATH: '', NIX_STATE_DIR: '/st' }), '/st/daemon-socket/socket');
    assert.equal(socketOf('daemon?state=/s'), '/s/daemon-socket/socket');
    assert.equal(socketOf('daemon'), '/nix/var/nix/daemon-socket/socket');
    assert.equal(socketOf('/mnt/lower?read-only=true'), undefined);
    const error = layoutError('local-overlay://?upper-layer=/u&lower-store=daemon', 'STORE_LAYOUT_BAD_ENV', { NIX_DAEMON_SOCKET_PATH: 'rel.sock' });
    assert.equal(error.evidence['variable'], 'NIX_DAEMON_SOCKET_PATH');
  });

  it("resolves an unset lower store as auto, at Nix's default dirs", () => {
    assert.deepEqual(layoutOf('local-overlay://?upper-layer=/u').lower, {
      url: '',
      kind: 'auto',
      storeDir: '/nix/store',
      realStoreDir: '/nix/store',
      stateDir: '/nix/var/nix',
      db: '/nix/var/nix/db/db.sqlite',
      readOnly: false,
      daemonSocket: undefined,
    });
  });

  it('resolves a stacked overlay lower store to its merged dir and upper DB', () => {
    const inner = 'local-overlay://?root=/mid&upper-layer=/mid-upper&lower-store=/base&read-only=true';
    const lower = layoutOf(`local-overlay://?upper-layer=/top&lower-store=${encodeURIComponent(inner)}`).lower;
    assert.deepEqual(lower, {
      url: inner,
      kind: 'local-overlay',
      storeDir: '/nix/store',
      realStoreDir: '/mid/nix/store',
      stateDir: '/mid/nix/var/nix',
      db: '/mid/nix/var/nix/db/db.sqlite',
      readOnly: true,
      daemonSocket: undefined,
    });
  });

  it('refuses URLs of other store types, naming the type', () => {
    for (const [text, kind] of [
      ['local', 'local'],
      ['/mnt/cacache?read-only=true', 'local'],
      ['daemon', 'daemon'],
      ['auto', 'auto'],
      ['', 'auto'],
    ] as const) {
      const error = layoutError(text, 'STORE_LAYOUT_NOT_OVERLAY');
      assert.equal(error.evidence['kind'], kind);
      assert.ok(error.hint?.includes('local-overlay://'));
    }
  });

  describe('against stores made by real Nix', () => {
    let dir: string;
    let content: string;
    before(function () {
      requireCommand(this, 'nix-store');
      dir = mkdtempSync(join(tmpdir(), 'ow-layout-'));
      content = join(dir, 'content');
      mkdirSync(content);
      writeFileSync(join(content, 'file'), 'hello\n');
    });
    after(() => {
      if (dir !== undefined) {
        spawnSync('chmod', ['-R', 'u+w', dir]);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    /** Adds `content` to the store `url` with nix-store; returns the printed store path. */
    function nixAdd(url: string): string {
      const result = spawnSync('nix-store', ['--store', url, '--add', content], { encoding: 'utf8', env: nixEnv() });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.trim();
    }

    for (const [name, lowerOf] of [
      ['a plain root path', (d: string) => `${d}/root`],
      ['local?root=…&state=…', (d: string) => `local?root=${d}/root&state=${d}/state`],
      ['local?root=…&real=…', (d: string) => `local?root=${d}/root&real=${d}/real`],
      ['local?root=…&store=/other/store', (d: string) => `local?root=${d}/root&store=/other/store`],
    ] as const) {
      it(`finds the objects and DB Nix wrote for a lower store given as ${name}`, () => {
        const storeDir = mkdtempSync(join(dir, 'store-'));
        const lowerUrl = lowerOf(storeDir);
        const added = nixAdd(lowerUrl);
        const lower = layoutOf(`local-overlay://?upper-layer=/upper&lower-store=${encodeURIComponent(lowerUrl)}`).lower;
        assert.equal(lower.storeDir, dirname(added));
        assert.ok(existsSync(join(lower.realStoreDir, basename(added), 'file')), `${added} under ${lower.realStoreDir}`);
        assert.ok(lower.db !== undefined && existsSync(lower.db), `DB at ${lower.db}`);
        assert.ok(existsSync(join(lower.stateDir!, 'db', 'schema')));
      });
    }
  });
});
