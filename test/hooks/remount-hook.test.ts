import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireMountNamespaces } from '../support/requirements.ts';

const HOOK = fileURLToPath(new URL('../../hooks/remount', import.meta.url));

/** Runs `script` (sh, `$1` = a fresh dir, `$2` = the hook) in a fresh private mount namespace; mounts vanish with it. */
function inNamespace(script: string, dir: string, env: NodeJS.ProcessEnv = process.env) {
  return runInFreshNamespace(['sh', '-c', script, 'sh', dir, HOOK], { env, timeout: 60_000 });
}

/** Sets up lower/upper/work and an overlay at "$1/m erged" (a space, to exercise mountinfo escaping), with p in both layers. */
const SETUP = `
  set -eu
  cd "$1"; mkdir -p l u w "m erged"
  echo lower > l/p; echo upper > u/p
  mount -t overlay overlay -o "lowerdir=$1/l,upperdir=$1/u,workdir=$1/w" "$1/m erged"
  echo "first=$(cat "$1/m erged/p")"
`;

const field = (stdout: string, name: string): string | undefined =>
  stdout
    .split('\n')
    .find((l) => l.startsWith(`${name}=`))
    ?.slice(name.length + 1);

describe('hooks/remount', function () {
  let root: string;
  let n = 0;
  const fresh = (): string => {
    const dir = join(root, String(++n));
    mkdirSync(dir);
    return dir;
  };
  before(function () {
    root = mkdtempSync(join(tmpdir(), 'ow-remount-hook-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('on a real overlay (root, private mount namespace)', function () {
    before(function () {
      requireMountNamespaces(this);
    });

    it('makes the merged dir serve the lower copy after the upper copy was deleted directly', () => {
      const run = inNamespace(
        `${SETUP}
        rm "$1/u/p"
        echo "before=$(cat "$1/m erged/p" 2>&1)"
        set +e; "$2" "$1/m erged"; echo "status=$?"
        echo "after=$(cat "$1/m erged/p" 2>&1)"
        echo "fstype=$(findmnt -n -r -o FSTYPE --mountpoint "$1/m erged" | tail -n 1)"`,
        fresh(),
      );
      assert.equal(field(run.stdout, 'first'), 'upper', run.stderr);
      // This kernel keeps serving the deleted upper file (DOMAIN.md); others answer ESTALE. Either way the view is
      // stale, which is what makes the remount's effect visible.
      assert.match(
        field(run.stdout, 'before') ?? '',
        /^upper$|Stale file handle/,
        'the view was not stale before the remount: this kernel does not reproduce the scenario',
      );
      assert.equal(field(run.stdout, 'status'), '0', run.stderr);
      assert.match(run.stdout, /remount: remounted .*\/m erged/);
      assert.equal(field(run.stdout, 'after'), 'lower');
      assert.equal(field(run.stdout, 'fstype'), 'overlay');
    });

    it('without findmnt, reads /proc/self/mountinfo (escaped paths) and passes LIBMOUNT_FORCE_MOUNT2=always to mount', () => {
      const dir = fresh();
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      for (const tool of ['awk', 'tail']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
      // A mount(8) that records what it was given, then does the real remount.
      writeFileSync(
        join(bin, 'mount'),
        `#!/bin/sh\necho "LIBMOUNT_FORCE_MOUNT2=$LIBMOUNT_FORCE_MOUNT2 args=$*" > '${join(dir, 'mount.log')}'\nexec /usr/bin/mount "$@"\n`,
      );
      chmodSync(join(bin, 'mount'), 0o755);
      const run = inNamespace(
        `${SETUP}
        rm "$1/u/p"
        set +e; PATH="$1/bin" "$2" "$1/m erged"; echo "status=$?"
        echo "after=$(cat "$1/m erged/p" 2>&1)"`,
        dir,
        { ...process.env, LIBMOUNT_FORCE_MOUNT2: '' },
      );
      assert.equal(field(run.stdout, 'status'), '0', run.stderr);
      assert.equal(field(run.stdout, 'after'), 'lower');
      assert.equal(readFileSync(join(dir, 'mount.log'), 'utf8').trim(), `LIBMOUNT_FORCE_MOUNT2=always args=-o remount ${dir}/m erged`);
    });

    it('refuses (65) when something is mounted on top of the overlay, and leaves both mounts alone', () => {
      const run = inNamespace(
        `${SETUP}
        mount -t tmpfs stacked "$1/m erged"
        set +e; "$2" "$1/m erged"; echo "status=$?"
        echo "mounts=$(findmnt -n -r -o FSTYPE --mountpoint "$1/m erged" | tr '\n' ' ')"`,
        fresh(),
      );
      assert.equal(field(run.stdout, 'status'), '65');
      assert.equal(field(run.stdout, 'mounts'), 'overlay tmpfs ');
      assert.match(run.stderr, /the top mount at .*m erged is tmpfs, not overlay/);
    });
  });

  it('refuses bad arguments with usage status 64', () => {
    for (const args of [[], ['relative/store'], ['/a', '/b']]) {
      const run = spawnSync(HOOK, args, { encoding: 'utf8' });
      assert.equal(run.status, 64, `${JSON.stringify(args)}: ${run.stderr}`);
      assert.match(run.stderr, /^remount: /);
    }
  });

  it('refuses a path that does not exist (69) or is not a mount point (65)', () => {
    const dir = fresh();
    const missing = spawnSync(HOOK, [join(dir, 'absent')], { encoding: 'utf8' });
    assert.equal(missing.status, 69);
    const plain = spawnSync(HOOK, [dir], { encoding: 'utf8' });
    assert.equal(plain.status, 65);
    assert.match(plain.stderr, /is not a mount point/);
  });
});
