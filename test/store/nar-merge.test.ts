/**
 * The NAR of an upper object merged over a lower one, checked against the NAR of the tree the merge should give,
 * built out on disk and hashed by narHashOfPathSync (itself checked against `nix-store --dump` in nar.test.ts).
 * Overlay xattrs are given as marks, as the worker passes what getfattr read.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OverlayMarks } from '../../agent/mount/overlay-entry.ts';
import { NarError } from '../../agent/store/nar-error.ts';
import { narHashOfMergedSync } from '../../agent/store/nar-merge.ts';
import { narHashOfPathSync } from '../../agent/store/nar.ts';
import { requireRoot } from '../support/requirements.ts';

/** A tree: a file's contents (`!` first: executable), a symlink (`->` first), or a directory. */
type Tree = string | { readonly [name: string]: Tree };

function build(at: string, tree: Tree): void {
  if (typeof tree !== 'string') {
    fs.mkdirSync(at);
    for (const [name, child] of Object.entries(tree)) build(path.join(at, name), child);
  } else if (tree.startsWith('->')) {
    fs.symlinkSync(tree.slice(2), at);
  } else {
    fs.writeFileSync(at, tree.replace(/^!/, ''), { mode: tree.startsWith('!') ? 0o755 : 0o644 });
  }
}

describe('store/nar-merge: what OverlayFS serves for an upper object over a lower one', () => {
  let dir: string;
  let n = 0;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nar-merge-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Builds the layers and the expected tree; returns the merged result and the expected tree's hash. */
  function merge(upper: Tree, lower: Tree | undefined, expected: Tree, marks: Record<string, OverlayMarks> = {}) {
    const u = path.join(dir, `upper${++n}`);
    const l = path.join(dir, `lower${n}`);
    build(u, upper);
    if (lower !== undefined) build(l, lower);
    const want = path.join(dir, `expected${n}`);
    build(want, expected);
    const byPath = new Map(Object.entries(marks).map(([rel, mark]) => [path.join(u, rel), mark]));
    const got = narHashOfMergedSync(u, l, (p) => byPath.get(p.toString()));
    return { got, want: narHashOfPathSync(want), u };
  }
  const assertServes = (r: ReturnType<typeof merge>, merged: boolean) => {
    assert.deepEqual({ hash: r.got.hash.toString('hex'), narSize: r.got.narSize }, { hash: r.want.hash.toString('hex'), narSize: r.want.narSize });
    assert.equal(r.got.merged, merged);
  };

  it('a directory over a directory is their union, the upper entry winning a name, merged again below', () => {
    const lower = { a: 'lower a', b: 'lower b', sub: { x: 'x', y: 'lower y' }, link: '->a', onlyLower: { deep: '!deep' } };
    const upper = { b: 'upper b', sub: { y: 'upper y', z: 'z' }, c: 'new' };
    assertServes(merge(upper, lower, { ...lower, b: 'upper b', sub: { x: 'x', y: 'upper y', z: 'z' }, c: 'new' }), true);
  });

  it('a copy-up of one file inside a store path: the upper directory holds just that file, the whole tree is served', () => {
    const lower = { bin: { tool: '!#!/bin/sh\n' }, share: { doc: 'doc' } };
    assertServes(merge({ share: { doc: 'doc\ntampered' } }, lower, { ...lower, share: { doc: 'doc\ntampered' } }), true);
  });

  it('an opaque directory is served alone; a non-directory over anything is served alone; no lower object: the upper alone', () => {
    assertServes(merge({ a: 'a' }, { a: 'old', b: 'b' }, { a: 'a' }, { '': { opaque: true, whiteout: false } }), false);
    assertServes(merge({ sub: { a: 'a' } }, { sub: { b: 'b' } }, { sub: { a: 'a' } }, { sub: { opaque: true, whiteout: false } }), true);
    assertServes(merge('a file', { was: 'a directory' }, 'a file'), false);
    assertServes(merge({ a: 'a' }, 'a file', { a: 'a' }), false);
    assertServes(merge({ a: 'a' }, undefined, { a: 'a' }), false);
  });

  it('an xattr whiteout hides the lower entry of its name, and itself when there is none', () => {
    const marks = { gone: { opaque: false, whiteout: true }, nothing: { opaque: false, whiteout: true } };
    assertServes(merge({ gone: '', nothing: '', kept: 'k' }, { gone: 'g', other: 'o' }, { kept: 'k', other: 'o' }, marks), true);
  });

  it('a device whiteout hides the lower entry of its name', function () {
    requireRoot(this);
    const u = path.join(dir, 'u');
    const l = path.join(dir, 'l');
    build(u, { kept: 'k' });
    build(l, { gone: 'g', other: 'o' });
    assert.equal(spawnSync('mknod', [path.join(u, 'gone'), 'c', '0', '0']).status, 0);
    build(path.join(dir, 'want'), { kept: 'k', other: 'o' });
    assert.deepEqual(narHashOfMergedSync(u, l, () => undefined).hash, narHashOfPathSync(path.join(dir, 'want')).hash);
  });

  it('a metacopy file keeps its own executable bit and serves the lower data (its own bytes are a hole)', () => {
    const r = merge({ tool: '!\0\0\0\0\0' }, { tool: 'hello' }, { tool: '!hello' }, { tool: { opaque: false, whiteout: false, metacopy: true } });
    assertServes(r, true);
    assertServes(merge('\0\0\0\0\0', 'hello', 'hello', { '': { opaque: false, whiteout: false, metacopy: true } }), true);
  });

  it('a redirect, or a metacopy file without its lower data beside it, is refused: its lower object is elsewhere', () => {
    const refuses = (fn: () => unknown) =>
      assert.throws(fn, (error: unknown) => error instanceof NarError && error.code === 'NAR_OVERLAY_REDIRECT' && /redirect_dir=off/.test(error.hint ?? ''));
    refuses(() => merge({ a: 'a' }, { b: 'b' }, {}, { '': { opaque: false, whiteout: false, redirect: true } }));
    refuses(() => merge({ m: '\0' }, { other: 'o' }, {}, { m: { opaque: false, whiteout: false, metacopy: true } }));
  });

  it('a missing upper object is an I/O error with ENOENT on it, as for a plain hash', () => {
    const upper = path.join(dir, 'absent');
    assert.throws(
      () => narHashOfMergedSync(upper, dir, () => undefined),
      (error: unknown) =>
        error instanceof NarError && error.code === 'NAR_IO_ERROR' && error.evidence['errno'] === 'ENOENT' && error.evidence['path'] === upper,
    );
  });
});
