import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PercentEncodingError, percentDecode, percentEncode } from '../../agent/store/index.ts';

describe('percent-encoding', () => {
  it('decodes escapes of UTF-8 and leaves other characters, + included', () => {
    assert.equal(percentDecode('%2Fmnt%2Fcacache%3Fread-only%3Dtrue'), '/mnt/cacache?read-only=true');
    assert.equal(percentDecode('a+b%20c%c3%A9'), 'a+b cé');
    assert.equal(percentDecode('%252F'), '%2F');
  });

  it('rejects malformed escapes and escapes that are not UTF-8, with the offset', () => {
    for (const [text, code, offset] of [
      ['ab%', 'PERCENT_BAD_ESCAPE', 2],
      ['%2', 'PERCENT_BAD_ESCAPE', 0],
      ['x%zz', 'PERCENT_BAD_ESCAPE', 1],
      ['%41%C3', 'PERCENT_BAD_UTF8', 0],
      ['a%FF', 'PERCENT_BAD_UTF8', 1],
    ] as const) {
      assert.throws(
        () => percentDecode(text),
        (error: unknown) => error instanceof PercentEncodingError && error.code === code && error.evidence['offset'] === offset,
        text,
      );
    }
  });

  it('encodes all but unreserved characters and `keep`', () => {
    assert.equal(percentEncode('/mnt/cacache?read-only=true'), '%2Fmnt%2Fcacache%3Fread-only%3Dtrue');
    assert.equal(percentEncode('/a b:c', '/:'), '/a%20b:c');
    assert.equal(percentEncode('é'), '%C3%A9');
  });

  it('round-trips any well-formed string, and agrees with decodeURIComponent', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => s.isWellFormed()),
        fc.constantFrom('', '/:@'),
        (text, keep) => {
          const encoded = percentEncode(text, keep);
          assert.equal(percentDecode(encoded), text);
          assert.equal(decodeURIComponent(encoded), text);
          assert.equal(percentDecode(encodeURIComponent(text)), text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
