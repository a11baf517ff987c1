import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StorePathError, isValidStorePathName, parseStorePath, parseStorePathName } from '../../agent/store/store-path.ts';

const HASH = 'b6gvzjyb2pg0kjfwrjmg1vfhh54ad73z';

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof StorePathError && error.code === code && error.evidence['value'] !== undefined);
}

describe('store-path', () => {
  describe('parseStorePathName', () => {
    const valid: [string, string][] = [
      [`${HASH}-firefox-33.1`, 'firefox-33.1'],
      [`${HASH}-a`, 'a'],
      [`${HASH}--leading-dash`, '-leading-dash'],
      [`${HASH}-+-._?=AZaz09`, '+-._?=AZaz09'],
      [`${HASH}-dots.in..the.middle.`, 'dots.in..the.middle.'],
      [`${HASH}-${'x'.repeat(211)}`, 'x'.repeat(211)],
    ];
    for (const [baseName, name] of valid) {
      it(`accepts ${baseName.length > 60 ? `a name of ${name.length} chars` : baseName}`, () => {
        assert.deepEqual(parseStorePathName(baseName), { hashPart: HASH, name });
        assert.equal(isValidStorePathName(baseName), true);
      });
    }

    const invalid: [string, string, string][] = [
      ['hash of 31 chars', `${HASH.slice(1)}-hello`, 'STORE_PATH_HASH_LENGTH'],
      ['hash of 33 chars', `${HASH}0-hello`, 'STORE_PATH_HASH_LENGTH'],
      ['no dash at all', HASH, 'STORE_PATH_HASH_LENGTH'],
      ['empty string', '', 'STORE_PATH_HASH_LENGTH'],
      ['hash with e', `e${HASH.slice(1)}-hello`, 'STORE_PATH_HASH_CHAR'],
      ['hash with o', `${HASH.slice(0, 5)}o${HASH.slice(6)}-hello`, 'STORE_PATH_HASH_CHAR'],
      ['hash with t', `${HASH.slice(0, 31)}t-hello`, 'STORE_PATH_HASH_CHAR'],
      ['hash with u', `u${HASH.slice(1)}-hello`, 'STORE_PATH_HASH_CHAR'],
      ['upper-case hash', `${HASH.toUpperCase()}-hello`, 'STORE_PATH_HASH_CHAR'],
      ['empty name', `${HASH}-`, 'STORE_PATH_NAME_EMPTY'],
      ['name of 212 chars', `${HASH}-${'x'.repeat(212)}`, 'STORE_PATH_NAME_TOO_LONG'],
      ['name starting with a dot', `${HASH}-.hidden`, 'STORE_PATH_NAME_LEADING_DOT'],
      ['name .', `${HASH}-.`, 'STORE_PATH_NAME_LEADING_DOT'],
      ['name ..', `${HASH}-..`, 'STORE_PATH_NAME_LEADING_DOT'],
      ['space in name', `${HASH}-hello world`, 'STORE_PATH_NAME_CHAR'],
      ['slash in name', `${HASH}-a/b`, 'STORE_PATH_NAME_CHAR'],
      ['@ in name', `${HASH}-a@b`, 'STORE_PATH_NAME_CHAR'],
      ['non-ASCII in name', `${HASH}-café`, 'STORE_PATH_NAME_CHAR'],
      ['NUL in name', `${HASH}-a\0b`, 'STORE_PATH_NAME_CHAR'],
    ];
    for (const [what, baseName, code] of invalid) {
      it(`rejects ${what} with ${code}`, () => {
        assertCode(() => parseStorePathName(baseName), code);
        assert.equal(isValidStorePathName(baseName), false);
      });
    }

    it('names the offending char and its index', () => {
      assert.throws(
        () => parseStorePathName(`${HASH}-ab!c`),
        (error: unknown) => error instanceof StorePathError && error.evidence['char'] === '!' && error.evidence['index'] === 35,
      );
    });

    it('isValidStorePathName agrees with parseStorePathName on arbitrary strings', () => {
      const hashChar = fc.constantFrom(...'0123456789abcdfghijklmnpqrsvwxyzeotuA');
      const nameChar = fc.constantFrom(...'aZ09+-._?= /@é\u0000');
      const candidate = fc
        .tuple(fc.array(hashChar, { minLength: 30, maxLength: 34 }), fc.constantFrom('-', '_', ''), fc.array(nameChar, { maxLength: 215 }))
        .map(([hash, dash, name]) => hash.join('') + dash + name.join(''));
      fc.assert(
        fc.property(fc.oneof(candidate, fc.string()), (s) => {
          let parsed = true;
          try {
            parseStorePathName(s);
          } catch (error) {
            assert.ok(error instanceof StorePathError);
            parsed = false;
          }
          assert.equal(isValidStorePathName(s), parsed);
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('parseStorePath', () => {
    it('parses a path directly in the store dir', () => {
      assert.deepEqual(parseStorePath('/nix/store', `/nix/store/${HASH}-hello-2.12`), { hashPart: HASH, name: 'hello-2.12', baseName: `${HASH}-hello-2.12` });
    });

    it('normalises both paths lexically first, as Nix canonPath does', () => {
      assert.equal(parseStorePath('/nix/store/', `//nix/./store//${HASH}-hello/`).name, 'hello');
      assert.equal(parseStorePath('/tmp/x/../nix/store', `/tmp/nix/store/${HASH}-hello`).name, 'hello');
    });

    it('rejects paths inside a store object or outside the store dir', () => {
      assertCode(() => parseStorePath('/nix/store', `/nix/store/${HASH}-hello/bin/hello`), 'STORE_PATH_OUTSIDE_STORE');
      assertCode(() => parseStorePath('/nix/store', `/nix/${HASH}-hello`), 'STORE_PATH_OUTSIDE_STORE');
      assertCode(() => parseStorePath('/nix/store', '/nix/store'), 'STORE_PATH_OUTSIDE_STORE');
      assertCode(() => parseStorePath('/nix/store', `/nix/store/../${HASH}-hello`), 'STORE_PATH_OUTSIDE_STORE');
    });

    it('rejects relative paths, naming the field', () => {
      assert.throws(
        () => parseStorePath('/nix/store', `${HASH}-hello`),
        (e: unknown) => e instanceof StorePathError && e.code === 'STORE_PATH_NOT_ABSOLUTE' && e.evidence['field'] === 'path',
      );
      assert.throws(
        () => parseStorePath('nix/store', `/nix/store/${HASH}-hello`),
        (e: unknown) => e instanceof StorePathError && e.code === 'STORE_PATH_NOT_ABSOLUTE' && e.evidence['field'] === 'storeDir',
      );
    });

    it('reports a bad base name with the base name rule', () => {
      assertCode(() => parseStorePath('/nix/store', `/nix/store/${HASH}-.x`), 'STORE_PATH_NAME_LEADING_DOT');
    });
  });
});
