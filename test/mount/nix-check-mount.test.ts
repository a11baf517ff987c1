import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMountinfo } from '../../agent/mount/mountinfo.ts';
import { nixCheckMount, nixCheckMountOnTable, procMountsLine, procMountsText } from '../../agent/mount/nix-check-mount.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireMountNamespaces } from '../support/requirements.ts';
import { FIXTURE_NAMES, fixtureMounts } from './fixtures.ts';

const input = { realStoreDir: '/m/nix/store', lowerRealStoreDir: '/l/nix/store', upperLayer: '/u' };
const line = (options: string, point = '/m/nix/store', source = 'overlay'): string => `${source} ${point} overlay rw,relatime,${options} 0 0\n`;
const GOOD = 'lowerdir=/l/nix/store,upperdir=/u,workdir=/w';

describe("Nix's check-mount, emulated", () => {
  it('accepts one lowerdir and the upperdir, each followed by a comma or space', () => {
    const verdict = nixCheckMount(`tmpfs /tmp tmpfs rw 0 0\n${line(GOOD)}`, input);
    assert.equal(verdict.accepted, true);
    assert.equal(verdict.matchedLine, line(GOOD).trimEnd());
    assert.equal(nixCheckMount(line('workdir=/w,lowerdir=/l/nix/store,upperdir=/u'), input).accepted, true, 'upperdir last, then " 0 0"');
  });

  it('refuses several lowerdirs, with the message Nix prints', () => {
    const verdict = nixCheckMount(line('lowerdir=/l/nix/store:/x,upperdir=/u,workdir=/w'), input);
    assert.equal(verdict.accepted, false);
    assert.equal(verdict.message, "overlay filesystem '/m/nix/store' mounted incorrectly");
    assert.deepEqual([verdict.lowerdirMatched, verdict.upperdirMatched], [false, true]);
  });

  it('refuses lowerdir+= layers', () => {
    assert.equal(nixCheckMount(line('lowerdir+=/l/nix/store,upperdir=/u,workdir=/w'), input).lowerdirMatched, false);
  });

  it('finds no line when the mount point has an escaped space, or the source is not "overlay"', () => {
    const spaced = { ...input, realStoreDir: '/m m/nix/store' };
    assert.equal(nixCheckMount(line(GOOD, '/m\\040m/nix/store'), spaced).matchedLine, undefined);
    assert.equal(nixCheckMount(line(GOOD, '/m/nix/store', 'my-overlay'), input).matchedLine, undefined);
  });

  it('takes a dot in a path as "any character": accepts a lowerdir that is another directory', () => {
    const verdict = nixCheckMount(line('lowerdir=/l/bxc/store,upperdir=/u,workdir=/w'), { ...input, lowerRealStoreDir: '/l/b.c/store' });
    assert.equal(verdict.accepted, true);
  });

  it('throws a regex error for a path that is not a valid pattern', () => {
    const verdict = nixCheckMount(line(GOOD), { ...input, lowerRealStoreDir: '/l/c++/store' });
    assert.equal(verdict.accepted, false);
    assert.match(verdict.regexError ?? '', /regex/);
  });

  it('keeps the last matching line: a tmpfs stacked on the overlay (other source) is not seen', () => {
    const stacked = `${line(GOOD)}stacked-fs /m/nix/store tmpfs rw,relatime 0 0\n`;
    assert.equal(nixCheckMount(stacked, input).accepted, true);
    assert.equal(nixCheckMount(`${line(GOOD)}${line('lowerdir=/other,upperdir=/u,workdir=/w')}`, input).accepted, false);
    assert.equal(nixCheckMount(`${line('lowerdir=/other,upperdir=/u,workdir=/w')}${line(GOOD)}`, input).accepted, true);
  });

  it('derives /proc/self/mounts lines: ro if either flag is, superblock flags before mount flags', () => {
    const [entry] = parseMountinfo('64 43 0:39 / /tmp/t\\0402 ro,noexec,relatime - tmpfs my\\040src rw,sync,lazytime,size=10k\n').mounts;
    assert.equal(procMountsLine(entry!), 'my\\040src /tmp/t\\0402 tmpfs ro,sync,lazytime,noexec,relatime,size=10k 0 0');
  });

  it('judges the captured stacked overlay as Nix would: accepted, the stack unseen', () => {
    const verdict = nixCheckMountOnTable(fixtureMounts('stacked'), {
      realStoreDir: '/tmp/owfx/stacked/merged/nix/store',
      lowerRealStoreDir: '/tmp/owfx/stacked/lower/nix/store',
      upperLayer: '/tmp/owfx/stacked/upper/store',
    });
    assert.equal(verdict.accepted, true);
  });

  it('on a table, gives exactly the verdict of searching the whole derived text (its shortcuts change nothing)', () => {
    const tables = FIXTURE_NAMES.map((name) => fixtureMounts(name));
    const points = [...new Set(tables.flat().map((e) => e.mountPoint))];
    const layers = ['/tmp/owfx/stacked/lower/nix/store', '/tmp/owfx/three-lowerdirs/upper/store', '/x'];
    const mutate = fc.constantFrom(
      (p: string) => p,
      (p: string) => p.replace(/o/, '.'),
      (p: string) => p.replace(/\//, '\\s'),
      (p: string) => `${p} overlay`,
      (p: string) => p.replace(/x/, '[x]'),
      (p: string) => p.replace(/ /, '\\040'),
      (p: string) => `${p}.*`,
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...tables),
        fc.constantFrom(...points),
        mutate,
        fc.constantFrom(...layers),
        fc.constantFrom(...layers),
        (entries, point, change, lower, upper) => {
          const input = { realStoreDir: change(point), lowerRealStoreDir: lower, upperLayer: upper };
          assert.deepEqual(nixCheckMountOnTable(entries, input), nixCheckMount(procMountsText(entries), input));
        },
      ),
      { numRuns: 500 },
    );
  });

  describe('against the kernel', function () {
    let dir = '';
    before(function () {
      requireMountNamespaces(this);
      dir = mkdtempSync(join(tmpdir(), 'ow-procmounts-'));
    });
    after(() => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it('derives exactly the /proc/self/mounts the kernel prints, for every line of a varied table', () => {
      const script = `
        set -eu
        cd "$1"
        mkdir -p t1 t2 "sp ace" l u w m "ro m" "back\\\\slash"
        mount -t tmpfs -o sync,noexec,lazytime "my src" t1
        mount --bind t1 t2
        mount -o remount,bind,ro t2
        mount -t tmpfs x "sp ace"
        mount -t overlay overlay -o "lowerdir=$1/l,upperdir=$1/u,workdir=$1/w,index=on" m
        mount -t overlay over -o "ro,lowerdir=$1/l:$1/t1" "ro m"
        mount -t tmpfs "a,b" "back\\\\slash"
        cat /proc/self/mountinfo
        echo ----
        cat /proc/self/mounts`;
      const run = runInFreshNamespace(['sh', '-c', script, 'sh', dir]);
      assert.equal(run.status, 0, run.stderr);
      const [mountinfo, mounts] = run.stdout.split('----\n');
      const { mounts: entries, errors } = parseMountinfo(mountinfo!);
      assert.deepEqual(errors, []);
      assert.ok(entries.length >= 8);
      assert.equal(procMountsText(entries), mounts);
    });
  });
});
