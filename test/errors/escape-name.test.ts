import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeName, isWardenError, unescapeName } from '../../agent/errors/index.ts';

describe('errors/escapeName', () => {
  it('leaves printable names as they are, UTF-8 included', () => {
    for (const name of ['', '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-2.12', 'sp ace', 'ünïcode', '日本語', '🙂']) {
      assert.equal(escapeName(name), name);
      assert.equal(escapeName(Buffer.from(name)), name);
    }
  });

  it('escapes a backslash, control characters and bytes that are not UTF-8', () => {
    const cases: ReadonlyArray<readonly [Uint8Array | string, string]> = [
      ['back\\slash', 'back\\\\slash'],
      ['new\nline', 'new\\x0aline'],
      ['tab\there\r', 'tab\\x09here\\x0d'],
      ['nul\0', 'nul\\x00'],
      ['\x1b[31mred', '\\x1b[31mred'],
      ['del\x7f', 'del\\x7f'],
      ['c1\u0085', 'c1\\xc2\\x85'],
      ['bidi\u202eevil', 'bidi\\xe2\\x80\\xaeevil'],
      ['sep\u2028', 'sep\\xe2\\x80\\xa8'],
      [Buffer.from([0xff, 0x0a]), '\\xff\\x0a'],
      [Buffer.from([0x61, 0xc3]), 'a\\xc3'], // a truncated sequence
      [Buffer.from([0xc0, 0xaf]), '\\xc0\\xaf'], // an overlong '/'
      [Buffer.from([0xed, 0xa0, 0x80]), '\\xed\\xa0\\x80'], // a surrogate
      [Buffer.from([0xf4, 0x90, 0x80, 0x80]), '\\xf4\\x90\\x80\\x80'], // above U+10FFFF
      [Buffer.from([0xc3, 0xa9, 0xff]), 'é\\xff'],
      [Buffer.from('\\x41'), '\\\\x41'], // text that looks like an escape is escaped itself
    ];
    for (const [input, shown] of cases) assert.equal(escapeName(input), shown, JSON.stringify(input));
  });

  it('gives every byte string back (round trip), on one line with no control characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const shown = escapeName(bytes);
        assert.deepEqual(unescapeName(shown), Buffer.from(bytes));
        assert.doesNotMatch(shown, /[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives every string back as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 32 }), (text) => {
        assert.equal(unescapeName(escapeName(text)).toString('utf8'), text);
      }),
    );
  });

  it('is one to one: different names never print alike', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        fc.pre(!Buffer.from(a).equals(Buffer.from(b)));
        assert.notEqual(escapeName(a), escapeName(b));
      }),
    );
  });

  it('refuses text escapeName cannot have printed', () => {
    for (const text of ['a\\', 'a\\n', 'a\\x4', 'a\\xzz']) {
      assert.throws(
        () => unescapeName(text),
        (error: unknown) => isWardenError(error, 'ESCAPED_NAME_MALFORMED'),
      );
    }
  });
});
