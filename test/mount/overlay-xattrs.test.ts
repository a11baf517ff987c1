import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOverlayMarks, planGetfattrCalls, readOverlayMarks, readOverlayMarksTreeSync, treeMarksKey } from '../../agent/mount/overlay-xattrs.ts';
import { MountNamespace } from '../support/mount-namespace.ts';
import { requireCommand, requireMountNamespaces, requireRoot } from '../support/requirements.ts';

describe('mount/overlay-xattrs', () => {
  it('parses getfattr hex dumps: opaque only when y (trusted or user namespace), whiteout whatever its value', () => {
    const text = [
      '# file: /u/a',
      'trusted.overlay.opaque=0x79',
      '',
      '# file: /u/b',
      'user.overlay.opaque=0x79',
      'trusted.overlay.whiteout=0x',
      '',
      '# file: /u/c',
      'trusted.overlay.opaque=0x78',
      '',
      '# file: /u/d',
      'trusted.overlay.whiteout',
      '',
    ].join('\n');
    assert.deepEqual(Object.fromEntries(parseOverlayMarks(text)), {
      '/u/a': { opaque: true, whiteout: false },
      '/u/b': { opaque: true, whiteout: true },
      '/u/c': { opaque: false, whiteout: false },
      '/u/d': { opaque: false, whiteout: true },
    });
  });

  it('takes the path it was given, not the header, when reading one path on its own', () => {
    const marks = parseOverlayMarks('# file: /u/new\\012line\ntrusted.overlay.opaque=0x79\n', '/u/new\nline');
    assert.deepEqual([...marks.keys()], ['/u/new\nline']);
  });

  it('plans getfattr runs whose headers need no unescaping', () => {
    const calls = planGetfattrCalls(['/u/a', '/u/b', '/up\nper/a', '/up\nper/b', '/back\\slash/a', '/u/new\nline', '/up\nper/new\nline', '/u/c'], 2);
    assert.deepEqual(calls, [
      // Printed as they are: in batches.
      { batch: ['/u/a', '/u/b'] },
      { batch: ['/u/c'] },
      // An odd directory, plain names: run there, names relative.
      { batch: ['a', 'b'], cwd: '/up\nper' },
      { batch: ['a'], cwd: '/back\\slash' },
      // An odd name: alone, its header ignored.
      { batch: ['/u/new\nline'], onlyPath: '/u/new\nline' },
      { batch: ['/up\nper/new\nline'], onlyPath: '/up\nper/new\nline' },
    ]);
  });

  describe('on a real overlay whose upper layer has opaque dirs with a newline or a backslash in their path', () => {
    let dir = '';
    let ns: MountNamespace | undefined;
    const names = ['x', 'new\nline', 'back\\slash'];
    const uppers = ['up\nper', 'back\\slash-upper'];
    before(async function () {
      requireMountNamespaces(this);
      requireCommand(this, 'setfattr');
      requireCommand(this, 'getfattr');
      dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-xattr-overlay-')));
      for (const name of names) {
        fs.mkdirSync(path.join(dir, 'lower', name), { recursive: true });
        fs.writeFileSync(path.join(dir, 'lower', name, 'lower-file'), '');
      }
      uppers.forEach((upper, i) => {
        for (const name of names) {
          const opaque = path.join(dir, upper, name);
          fs.mkdirSync(opaque, { recursive: true });
          fs.writeFileSync(path.join(opaque, 'upper-file'), '');
          execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', opaque]);
        }
        fs.mkdirSync(path.join(dir, `work${i}`));
        fs.mkdirSync(path.join(dir, `merged${i}`));
      });
      // The kernel's option parser takes a backslash as an escape: it is written twice (and passed as an argument,
      // out of the shell's reach).
      const options = uppers.map((upper, i) => `lowerdir=${dir}/lower,upperdir=${dir}/${upper.replaceAll('\\', '\\\\')},workdir=${dir}/work${i}`);
      ns = await MountNamespace.open({
        setup: 'mount -t overlay overlay -o "$2" "$1/merged0"\nmount -t overlay overlay -o "$3" "$1/merged1"',
        args: [dir, ...options],
      });
    });
    after(async () => {
      await ns?.close();
      if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
    });

    it('the kernel takes them as opaque: the merged view hides the lower contents', () => {
      for (let i = 0; i < uppers.length; i++) {
        for (const name of names) {
          const listed = ns!.inside(['ls', '-A', path.join(dir, `merged${i}`, name)]);
          assert.equal(listed.stdout, 'upper-file\n', `${JSON.stringify(uppers[i])}/${JSON.stringify(name)}: ${listed.stderr}`);
        }
      }
    });

    it('reads every one of them as opaque, under the path it was asked about', async () => {
      const paths = uppers.flatMap((upper) => names.map((name) => path.join(dir, upper, name)));
      const probe = await readOverlayMarks([...paths, path.join(dir, uppers[0]!, 'vanished')]);
      assert.ok(probe.available);
      assert.deepEqual(new Map(probe.marks), new Map(paths.map((p) => [p, { opaque: true, whiteout: false }])));
    });
  });

  describe('on real files', () => {
    let dir: string;
    before(function () {
      requireRoot(this);
      requireCommand(this, 'setfattr');
      requireCommand(this, 'getfattr');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-xattr-'));
    });
    after(() => {
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('reads in batches and leaves out unmarked and vanished paths', async () => {
      const paths = Array.from({ length: 600 }, (_, i) => path.join(dir, `d${i}`));
      for (const p of paths) fs.mkdirSync(p);
      execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', paths[0]!, paths[599]!]);
      const probe = await readOverlayMarks([...paths, path.join(dir, 'vanished')]);
      assert.ok(probe.available);
      assert.deepEqual([...probe.marks.keys()].sort(), [paths[0], paths[599]].sort());
    });

    it('reads paths that getfattr would print escaped (newline, backslash) under their own names', async () => {
      const odd = ['new\nline', 'back\\slash', 'ünïcode', 'plain'].map((name) => path.join(dir, name));
      for (const p of odd) fs.writeFileSync(p, '');
      for (const p of odd) execFileSync('setfattr', ['-n', 'trusted.overlay.whiteout', '-v', '', p]);
      const probe = await readOverlayMarks(odd);
      assert.ok(probe.available);
      assert.deepEqual(new Map(probe.marks), new Map(odd.map((p) => [p, { opaque: false, whiteout: true }])));
    });

    it('reads a whole tree in one go, every path keyed by its bytes (escaped or not UTF-8), all four marks', () => {
      const root = path.join(dir, 'tree');
      const names = ['new\nline', 'back\\slash', 'ünïcode'];
      fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
      for (const name of names) fs.writeFileSync(path.join(root, 'sub', name), '');
      const notUtf8 = Buffer.concat([Buffer.from(path.join(root, 'sub/')), Buffer.from([0x61, 0xff])]);
      fs.writeFileSync(notUtf8, 'x');
      fs.writeFileSync(path.join(root, 'plain'), 'unmarked');
      const set = (name: string, value: string, target: string) => execFileSync('setfattr', ['-n', name, '-v', value, target]);
      set('trusted.overlay.opaque', 'y', root);
      set('trusted.overlay.redirect', '/elsewhere', path.join(root, 'sub'));
      for (const name of names) set('user.overlay.whiteout', '', path.join(root, 'sub', name));
      // An argument string would reach setfattr as UTF-8: bash makes the 0xff byte.
      execFileSync('bash', ['-c', `setfattr -n trusted.overlay.metacopy -v '' "$1"$'a\\xff'`, '_', path.join(root, 'sub/')]);
      const tree = readOverlayMarksTreeSync([root]);
      assert.ok(tree.available);
      assert.deepEqual(
        new Map(tree.marks),
        new Map([
          [treeMarksKey(root), { opaque: true, whiteout: false }],
          [treeMarksKey(path.join(root, 'sub')), { opaque: false, whiteout: false, redirect: true }],
          ...names.map((name) => [treeMarksKey(path.join(root, 'sub', name)), { opaque: false, whiteout: true }] as const),
          [treeMarksKey(notUtf8), { opaque: false, whiteout: false, metacopy: true }],
        ]),
      );
      assert.equal(readOverlayMarksTreeSync([root], '/nonexistent/getfattr').available, false);
    });

    it('says when getfattr is missing', async () => {
      const missing = await readOverlayMarks([dir], { getfattr: '/nonexistent/getfattr' });
      assert.equal(missing.available, false);
    });
  });
});
