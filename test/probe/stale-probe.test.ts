import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { judgeView, type ObjectState, type Verdict } from '../../agent/probe/index.ts';
import { runInFreshNamespace } from '../support/mount-namespace.ts';
import { requireCommand, requireMountNamespaces } from '../support/requirements.ts';

const present = (o: Partial<Extract<ObjectState, { kind: 'present' }>> = {}): ObjectState => ({
  kind: 'present',
  type: 'directory',
  perm: 0o555,
  size: 4096,
  mtimeNs: '1000000000',
  nlink: 2,
  ...o,
});
const ABSENT: ObjectState = { kind: 'absent' };
const WHITEOUT: ObjectState = { kind: 'whiteout' };
const judge = (merged: ObjectState, upper: ObjectState, lower: ObjectState): Verdict => judgeView({ name: 'x', merged, upper, lower });

describe('probe/stale-probe', () => {
  describe('judgeView (states as observed on kernel 6.18)', () => {
    it('fresh: the merged view serves what the upper, else the lower layer holds, or nothing', () => {
      // A directory merged from both layers: OverlayFS reports the upper's attributes with nlink 1.
      assert.deepEqual(judge(present({ nlink: 1 }), present({ nlink: 3 }), present({ nlink: 3, size: 60 })), { state: 'fresh', expected: 'upper' });
      assert.deepEqual(judge(present(), ABSENT, present()), { state: 'fresh', expected: 'lower' });
      assert.deepEqual(judge(ABSENT, ABSENT, ABSENT), { state: 'fresh', expected: 'none' });
      assert.deepEqual(judge(ABSENT, WHITEOUT, present()), { state: 'fresh', expected: 'none' });
    });

    it('stale: a deleted inode still served (nlink 0), whatever the layers hold now', () => {
      // Upper copy of a duplicate deleted directly: the merged file keeps the deleted upper inode.
      assert.equal(judge(present({ type: 'file', nlink: 0, size: 5 }), ABSENT, present({ type: 'file', nlink: 1, size: 5 })).state, 'stale');
      // Upper-only dir deleted directly; lower-only dir deleted from the lower.
      assert.deepEqual(judge(present({ nlink: 0, size: 0 }), ABSENT, ABSENT), { state: 'stale', expected: 'none', reason: 'deleted-object-served' });
    });

    it('stale: a merged directory whose upper part was deleted differs from the lower it should now show', () => {
      const verdict = judge(present({ nlink: 1, size: 0 }), ABSENT, present({ nlink: 3, size: 4096 }));
      assert.equal(verdict.state, 'stale');
      assert.equal(verdict.state === 'stale' && verdict.reason, 'attributes-differ');
      assert.deepEqual(verdict.state === 'stale' && verdict.differences, ['size 0 ≠ 4096']);
    });

    it('stale: lower growth hidden by a cached failed lookup, objects served that no layer holds, ignored whiteouts, ESTALE', () => {
      assert.deepEqual(judge(ABSENT, ABSENT, present()), { state: 'stale', expected: 'lower', reason: 'lower-path-invisible' });
      assert.deepEqual(judge(ABSENT, present(), ABSENT), { state: 'stale', expected: 'upper', reason: 'upper-path-invisible' });
      assert.deepEqual(judge(present(), ABSENT, ABSENT), { state: 'stale', expected: 'none', reason: 'served-but-absent-from-layers' });
      assert.deepEqual(judge(present(), WHITEOUT, present()), { state: 'stale', expected: 'none', reason: 'whiteout-ignored' });
      assert.deepEqual(judge({ kind: 'error', errno: 'ESTALE' }, ABSENT, present()), { state: 'stale', expected: 'lower', reason: 'estale' });
    });

    it('inconclusive when a stat fails for another reason', () => {
      assert.deepEqual(judge({ kind: 'error', errno: 'EACCES' }, ABSENT, present()), { state: 'inconclusive', reason: 'stat-failed', errno: 'EACCES' });
      assert.deepEqual(judge(present(), { kind: 'error', errno: 'EIO' }, present()), { state: 'inconclusive', reason: 'stat-failed', errno: 'EIO' });
    });
  });

  describe('on a real overlay (private mount namespace)', () => {
    let dir = '';
    let result: {
      names: Record<string, string>;
      before: Record<string, Verdict>;
      after: Record<string, Verdict>;
      remounted: Record<string, Verdict>;
      mkdirInside: string;
      whiteout: { char: boolean; rdev: number };
    };

    before(function () {
      requireMountNamespaces(this);
      requireCommand(this, 'setfattr');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-probe-'));
      const child = path.join(import.meta.dirname, 'fixtures', 'stale-probe-child.ts');
      const run = runInFreshNamespace([process.execPath, child, dir]);
      assert.equal(run.status, 0, run.stderr);
      result = JSON.parse(run.stdout) as typeof result;
    });
    after(() => dir !== '' && fs.rmSync(dir, { recursive: true, force: true }));

    const states = (verdicts: Record<string, Verdict>) => Object.fromEntries(Object.entries(result.names).map(([key, name]) => [key, verdicts[name]?.state]));

    it('finds every path fresh before the layers are touched', () => {
      const { lowerLaterUnseen, ...probed } = states(result.before);
      assert.equal(lowerLaterUnseen, undefined, 'not probed before it appears');
      assert.deepEqual(new Set(Object.values(probed)), new Set(['fresh']));
    });

    it('flags direct deletions in either layer and lower growth behind a failed lookup, and nothing else', () => {
      assert.deepEqual(states(result.after), {
        bothDir: 'stale',
        bothFile: 'stale',
        upperOnly: 'stale',
        lowerOnly: 'stale',
        lowerLaterSeen: 'stale',
        lowerLaterUnseen: 'fresh',
        untouchedBoth: 'fresh',
        untouchedUpper: 'fresh',
        deletedThroughOverlay: 'fresh',
        xattrWhiteout: 'fresh',
      });
      // The overlay's own deletion left a whiteout (char device 0/0), and the probe reads it as such.
      assert.deepEqual(result.whiteout, { char: true, rdev: 0 });
    });

    it('gives the reasons this kernel shows (ESTALE on kernels that report it)', () => {
      const reason = (key: string) => {
        const v = result.after[result.names[key]!];
        return v?.state === 'stale' ? v.reason : undefined;
      };
      const allowed: Record<string, string[]> = {
        bothDir: ['attributes-differ', 'deleted-object-served', 'estale'],
        bothFile: ['deleted-object-served', 'estale'],
        upperOnly: ['deleted-object-served', 'served-but-absent-from-layers', 'estale'],
        lowerOnly: ['deleted-object-served', 'served-but-absent-from-layers', 'estale'],
        lowerLaterSeen: ['lower-path-invisible'],
      };
      for (const [key, reasons] of Object.entries(allowed)) assert.ok(reasons.includes(reason(key) ?? ''), `${key}: ${reason(key)}`);
    });

    it('finds everything fresh again after mount -o remount', () => {
      assert.deepEqual(new Set(Object.values(states(result.remounted))), new Set(['fresh']));
    });

    it('records what writing into a stale directory does (ENOENT on 6.18), which the probe never does', () => {
      assert.ok(['ENOENT', 'ESTALE'].includes(result.mkdirInside), result.mkdirInside);
    });
  });
});
