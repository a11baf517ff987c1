import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOverlayMarks, readOverlayMarks, readOverlayMarksTreeSync, treeMarksKey } from '../../agent/mount/overlay-xattrs.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

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
