import assert from 'node:assert/strict';
import { classifyOverlayEntry, isWhiteout, marksMatter, type EntryType, type OverlayMarks } from '../../agent/mount/overlay-entry.ts';

type Type = 'directory' | 'file' | 'symlink' | 'character-device' | 'fifo';

/** An lstat result of type `type` (literal: no file system needed). */
function stat(type: Type, fields: { rdev?: number | bigint; size?: number | bigint } = {}): EntryType {
  return {
    isDirectory: () => type === 'directory',
    isFile: () => type === 'file',
    isSymbolicLink: () => type === 'symlink',
    isCharacterDevice: () => type === 'character-device',
    ...fields,
  };
}

const NONE: OverlayMarks = { opaque: false, whiteout: false };
const OPAQUE: OverlayMarks = { opaque: true, whiteout: false };
const WHITEOUT: OverlayMarks = { opaque: false, whiteout: true };

describe('mount/overlay-entry', () => {
  const cases: ReadonlyArray<readonly [string, EntryType, OverlayMarks | undefined, string]> = [
    ['a directory', stat('directory', { size: 4096 }), undefined, 'directory'],
    ['a directory marked opaque', stat('directory', { size: 4096 }), OPAQUE, 'opaque-directory'],
    ['a directory with a whiteout mark', stat('directory'), WHITEOUT, 'directory'],
    ['a file', stat('file', { size: 10 }), NONE, 'file'],
    ['an empty file', stat('file', { size: 0 }), NONE, 'file'],
    ['an empty file marked whiteout', stat('file', { size: 0 }), WHITEOUT, 'xattr-whiteout'],
    ['an empty file marked whiteout (BigIntStats)', stat('file', { size: 0n }), WHITEOUT, 'xattr-whiteout'],
    ['a file with contents marked whiteout (the kernel ignores the mark)', stat('file', { size: 1 }), WHITEOUT, 'file'],
    ['a file marked whiteout, size unknown (readdir)', stat('file'), WHITEOUT, 'file'],
    ['a file marked opaque', stat('file', { size: 0 }), OPAQUE, 'file'],
    ['a symlink', stat('symlink'), undefined, 'symlink'],
    ['a character device 0/0', stat('character-device', { rdev: 0 }), undefined, 'device-whiteout'],
    ['a character device 0/0 (BigIntStats)', stat('character-device', { rdev: 0n }), undefined, 'device-whiteout'],
    ['another character device (1/3, /dev/null)', stat('character-device', { rdev: 259 }), undefined, 'other'],
    ['a character device of unknown number (readdir)', stat('character-device'), undefined, 'other'],
    ['a FIFO', stat('fifo'), undefined, 'other'],
  ];
  for (const [what, entry, marks, expected] of cases) {
    it(`${what} is ${expected}`, () => assert.equal(classifyOverlayEntry(entry, marks), expected));
  }

  it('says whose kind the xattrs can change: directories and empty (or unmeasured) files', () => {
    assert.deepEqual(
      [stat('directory'), stat('file', { size: 0 }), stat('file'), stat('file', { size: 5 }), stat('symlink'), stat('character-device', { rdev: 0 })].map(
        marksMatter,
      ),
      [true, true, true, false, false, false],
    );
  });

  it('counts both whiteout forms as whiteouts, nothing else', () => {
    assert.deepEqual((['directory', 'opaque-directory', 'file', 'symlink', 'device-whiteout', 'xattr-whiteout', 'other'] as const).filter(isWhiteout), [
      'device-whiteout',
      'xattr-whiteout',
    ]);
  });
});
