import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MountTable, parseMountinfo } from '../../agent/mount/index.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireMountNamespaces } from '../support/requirements.ts';

// The kernel is the oracle: in a private mount namespace, stack and hide real mounts, then compare the device
// that stat(2) reports for each path with the device of the mount our table says holds that path. Every tmpfs
// and overlay gets its own anonymous device, so a wrong answer shows as a different major:minor.
describe('visible-mount against the kernel', function () {
  let dir = '';

  before(function () {
    requireMountNamespaces(this);
    dir = mkdtempSync(join(tmpdir(), 'ow-visible-'));
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('agrees with stat(2) on stacked, hidden and escaped mounts', () => {
    const script = `
      set -eu
      cd "$1"
      mkdir -p s a/b "sp ace" l u w
      mount -t tmpfs hidden-b a/b
      mount -t overlay overlay -o "lowerdir=$1/l,upperdir=$1/u,workdir=$1/w" s
      mkdir s/sub
      mount -t tmpfs sub-fs s/sub
      mount -t tmpfs stacked-s s
      mkdir s/x
      mount -t tmpfs cover-a a
      mkdir a/b
      mount -t tmpfs space-1 "sp ace"
      mount -t tmpfs space-2 "sp ace"
      cat /proc/self/mountinfo
      echo ---
      for p in . s s/x a a/b "sp ace" l u; do stat -c '%Hd:%Ld %n' "$1/$p"; done
    `;
    const run = runInFreshNamespace(['bash', '-c', script, 'bash', dir]);
    assert.equal(run.status, 0, run.stderr);
    const [mountinfo = '', stats = ''] = run.stdout.split('---\n');
    const { mounts, errors } = parseMountinfo(mountinfo);
    assert.deepEqual(errors, []);
    const table = new MountTable(mounts);

    const probes = stats
      .trim()
      .split('\n')
      .map((line) => {
        const space = line.indexOf(' ');
        return { device: line.slice(0, space), path: line.slice(space + 1).replace(/\/\.$/, '') };
      });
    assert.equal(probes.length, 8);
    for (const { device, path } of probes) {
      const holder = table.findMountContaining(path);
      assert.equal(holder && `${holder.major}:${holder.minor}`, device, `${path} (table says ${holder?.source})`);
    }

    assert.equal(table.findVisibleMount(join(dir, 's'))?.source, 'stacked-s');
    assert.deepEqual(
      table.stackAt(join(dir, 's')).map((m) => m.source),
      ['overlay', 'stacked-s'],
    );
    assert.equal(table.findVisibleMount(join(dir, 's/sub')), undefined);
    assert.equal(table.findVisibleMount(join(dir, 'a'))?.source, 'cover-a');
    assert.equal(table.findVisibleMount(join(dir, 'a/b')), undefined);
    assert.equal(table.entriesAt(join(dir, 'a/b'))[0]?.source, 'hidden-b');
    assert.equal(table.findVisibleMount(join(dir, 'sp ace'))?.source, 'space-2');
  });
});
