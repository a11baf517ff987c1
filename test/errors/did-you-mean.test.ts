import assert from 'node:assert/strict';
import { didYouMean, editDistance, nearestNames } from '../../agent/errors/index.ts';

const COMMANDS = ['run', 'check', 'audit', 'verify', 'remount', 'status', 'layout', 'demo'];

describe('did you mean', () => {
  it('measures edits between two names (Levenshtein)', () => {
    const cases: Array<[string, string, number]> = [
      ['', '', 0],
      ['', 'abc', 3],
      ['chek', 'check', 1],
      ['treads', 'threads', 1],
      ['uperLayer', 'upperLayer', 1],
      ['kitten', 'sitting', 3],
      ['abc', 'cba', 2],
    ];
    for (const [a, b, distance] of cases) {
      assert.equal(editDistance(a, b), distance, `${a} → ${b}`);
      assert.equal(editDistance(b, a), distance, `${b} → ${a}`);
    }
  });

  it('finds the names a misspelling was meant as: commands, options, keys', () => {
    const cases: Array<[string, readonly string[], string[]]> = [
      ['chek', COMMANDS, ['check']],
      ['veryfy', COMMANDS, ['verify']],
      ['rn', COMMANDS, ['run']],
      // Short names get one edit: `ls` is not `layout`, nor `do` `demo`.
      ['ls', COMMANDS, []],
      ['do', COMMANDS, []],
      // When no name is that near: a name begun (3 characters or more) is a prefix of the one meant…
      ['stat', COMMANDS, ['status']],
      // …or the name meant is a prefix of the one given.
      ['warning', ['error', 'warn', 'info', 'debug'], ['warn']],
      ['remounting', COMMANDS, ['remount']],
      ['treads', ['threads', 'upper', 'lower', 'all', 'json'], ['threads']],
      ['uperLayer', ['url', 'nixConf', 'root', 'real', 'state', 'upperLayer', 'lowerStore'], ['upperLayer']],
      // Case aside: the key as written in the schema.
      ['UPPERLAYER', ['upperLayer'], ['upperLayer']],
      ['lowerstore', ['lower-store', 'upper-layer'], ['lower-store']],
      // The caller's normalisation (`upper_layer` → `upper-layer`) may make it one of them.
      ['upper-layer', ['lower-store', 'upper-layer'], ['upper-layer']],
      // Only the nearest, and all that are as near.
      ['rool', ['root', 'real', 'rook'], ['root', 'rook']],
      ['frobnicate', COMMANDS, []],
    ];
    for (const [given, candidates, expected] of cases) assert.deepEqual(nearestNames(given, candidates), expected, given);
  });

  it('asks in one sentence, each name spelt as the caller writes it', () => {
    assert.equal(didYouMean(['check']), 'did you mean check?');
    assert.equal(
      didYouMean(['threads'], (n) => `--${n}`),
      'did you mean --threads?',
    );
    assert.equal(
      didYouMean(['root', 'rook'], (n) => `'${n}'`),
      "did you mean 'root' or 'rook'?",
    );
    assert.equal(didYouMean(['a', 'b', 'c']), 'did you mean a, b, or c?');
    assert.equal(didYouMean([]), undefined);
  });
});
