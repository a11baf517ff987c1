import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseGetfattrDump, probeOverlayXattrs } from '../../agent/audit/overlay-xattrs.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

describe('overlay xattrs', () => {
  it('parses getfattr dumps: opaque (trusted or user namespace), whiteout markers, other values ignored', () => {
    const text = [
      '# file: /u/a',
      'trusted.overlay.opaque="y"',
      '',
      '# file: /u/b',
      'user.overlay.opaque="y"',
      'trusted.overlay.whiteout=""',
      '',
      '# file: /u/c',
      'trusted.overlay.opaque="x"',
      '',
    ].join('\n');
    assert.deepEqual(Object.fromEntries(parseGetfattrDump(text)), {
      '/u/a': { opaque: true, whiteout: false },
      '/u/b': { opaque: true, whiteout: true },
      '/u/c': { opaque: false, whiteout: false },
    });
  });

  it('reads real xattrs in batches, and reports when getfattr is missing', async function () {
    requireRoot(this);
    requireCommand(this, 'setfattr');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-xattr-'));
    try {
      const paths = Array.from({ length: 600 }, (_, i) => path.join(dir, `d${i}`));
      for (const p of paths) fs.mkdirSync(p);
      execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', paths[0]!, paths[599]!]);
      const probe = await probeOverlayXattrs([...paths, path.join(dir, 'vanished')]);
      assert.ok(probe.available);
      assert.deepEqual([...probe.marks.keys()].sort(), [paths[0], paths[599]].sort());
      const missing = await probeOverlayXattrs(paths.slice(0, 1), undefined, '/nonexistent/getfattr');
      assert.equal(missing.available, false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
