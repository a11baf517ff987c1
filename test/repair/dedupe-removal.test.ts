/** Removing an upper copy: renamed aside (a symlink as itself), then deleted without following anything out of the layer. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dedupeLeftoverName } from '../../agent/audit/index.ts';
import { DedupeError, deleteLeftover, setAside } from '../../agent/repair/index.ts';

const NAME = '0c8xc8ixbq3q2k7m2x5bw0bbd5nc43cc-hello-2.12';

describe('dedupe removal', () => {
  let dir: string;
  let upper: string;
  let outside: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-dedupe-removal-'));
    upper = path.join(dir, 'upper');
    outside = path.join(dir, 'outside');
    fs.mkdirSync(upper);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'keep'), 'keep');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sets a copy aside under its leftover name, then deletes it; symlinks inside are removed, their targets kept', () => {
    fs.mkdirSync(path.join(upper, NAME));
    fs.symlinkSync(outside, path.join(upper, NAME, 'link'));
    fs.chmodSync(path.join(upper, NAME), 0o555);
    const name = setAside(upper, NAME);
    assert.equal(name, dedupeLeftoverName(NAME));
    assert.deepEqual(fs.readdirSync(upper), [name]);
    deleteLeftover(upper, name);
    assert.deepEqual(fs.readdirSync(upper), []);
    assert.equal(fs.readFileSync(path.join(outside, 'keep'), 'utf8'), 'keep');
  });

  it('a copy that is a symlink is renamed itself, never its target', () => {
    fs.symlinkSync(outside, path.join(upper, NAME));
    deleteLeftover(upper, setAside(upper, NAME));
    assert.deepEqual(fs.readdirSync(upper), []);
    assert.deepEqual(fs.readdirSync(outside), ['keep']);
  });

  it('refuses to set aside over an existing leftover, and to delete anything not named as one', () => {
    fs.mkdirSync(path.join(upper, NAME));
    fs.mkdirSync(path.join(upper, dedupeLeftoverName(NAME)));
    assert.throws(
      () => setAside(upper, NAME),
      (e: unknown) => e instanceof DedupeError && e.code === 'DEDUPE_SET_ASIDE_FAILED',
    );
    assert.throws(
      () => deleteLeftover(upper, NAME),
      (e: unknown) => e instanceof DedupeError && e.code === 'DEDUPE_BAD_NAME',
    );
    assert.ok(fs.existsSync(path.join(upper, NAME)));
  });
});
