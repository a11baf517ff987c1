import assert from 'node:assert/strict';
import { classifyLowerChanges, classifyUpperChanges } from '../../agent/watch/index.ts';

const o = (name: string, before: boolean, now: boolean, rename = true, change = false, directory = false) => ({ name, before, now, directory, rename, change });

describe('watch/layer-changes', () => {
  it('lower: new names grew, vanished ones shrank, names created and deleted in one batch are nothing', () => {
    const changes = classifyLowerChanges([o('b', false, true), o('a', false, true), o('gone', true, false), o('flash', false, false)]);
    assert.deepEqual(changes, { grew: ['a', 'b'], shrank: ['gone'], modified: [] });
  });

  it('lower: a file present before and after was replaced (rename seen) or changed (only attributes or contents)', () => {
    const changes = classifyLowerChanges([o('r', true, true, true, true), o('c', true, true, false, true), o('quiet', true, true, false, false)]);
    assert.deepEqual(changes.modified, [
      { name: 'c', detail: 'changed' },
      { name: 'r', detail: 'replaced' },
    ]);
  });

  it('lower: for a directory the two cannot be told apart (every inotify event on one arrives as a rename)', () => {
    assert.deepEqual(classifyLowerChanges([o('d', true, true, true, false, true)]).modified, [{ name: 'd', detail: 'changed-or-replaced' }]);
  });

  it('upper: direct deletions carry whether the lower has the path, overlay deletions become whiteouts', () => {
    const changes = classifyUpperChanges([
      { name: 'dup', before: 'object', now: 'absent', inLower: true },
      { name: 'own', before: 'object', now: 'absent', inLower: false },
      { name: 'masked', before: 'object', now: 'whiteout', inLower: true },
      { name: 'new-wh', before: 'absent', now: 'whiteout', inLower: true },
      { name: 'unmasked', before: 'whiteout', now: 'absent', inLower: true },
      { name: 'built', before: 'absent', now: 'object', inLower: false },
      { name: 'recreated', before: 'whiteout', now: 'object', inLower: true },
      { name: 'same', before: 'object', now: 'object', inLower: false },
    ]);
    assert.deepEqual(changes, [
      { kind: 'added', name: 'built' },
      { kind: 'deleted', name: 'dup', entry: 'object', alsoInLower: true },
      { kind: 'whiteout-added', name: 'masked', masksLower: true },
      { kind: 'whiteout-added', name: 'new-wh', masksLower: true },
      { kind: 'deleted', name: 'own', entry: 'object', alsoInLower: false },
      { kind: 'added', name: 'recreated' },
      { kind: 'deleted', name: 'unmasked', entry: 'whiteout', alsoInLower: true },
    ]);
  });
});
