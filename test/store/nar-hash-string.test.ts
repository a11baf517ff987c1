import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { NAR_HASH_FORMS, NarHashStringError, formatNarHash, parseNarHash } from '../../agent/store/nar-hash-string.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';

/** `nix hash to-base16` of each argument (Nix 2.8 parses all four forms), or undefined when Nix rejects one. */
function nixToBase16(...hashes: string[]): string[] | undefined {
  const result = spawnSync('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'to-base16', ...hashes], { encoding: 'utf8', env: nixEnv() });
  return result.status === 0 ? result.stdout.trim().split('\n') : undefined;
}

function assertCode(value: string, code: string): void {
  assert.throws(
    () => parseNarHash(value),
    (error: unknown) => error instanceof NarHashStringError && error.code === code && error.evidence['value'] === value,
  );
}

describe('nar-hash-string', () => {
  it('formats and parses back every form', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...NAR_HASH_FORMS), (bytes, form) => {
        assert.deepEqual(new Uint8Array(parseNarHash(formatNarHash(bytes, form))), bytes);
      }),
      { numRuns: 400 },
    );
  });

  it('formats the DB form by default', () => {
    assert.equal(formatNarHash(new Uint8Array(32).fill(0xab)), `sha256:${'ab'.repeat(32)}`);
  });

  it('accepts upper-case base-16', () => {
    const bytes = randomBytes(32);
    assert.deepEqual(parseNarHash(`sha256:${bytes.toString('hex').toUpperCase()}`), bytes);
  });

  it('refuses a digest that is not 32 bytes', () => {
    assert.throws(() => formatNarHash(new Uint8Array(20)), RangeError);
  });

  describe('against nix hash to-base16', function () {
    before(function () {
      requireCommand(this, 'nix');
    });

    it('formats each form so that Nix reads back the same digest', () => {
      const digests = Array.from({ length: 10 }, () => randomBytes(32));
      const texts = digests.flatMap((d) => NAR_HASH_FORMS.map((form) => formatNarHash(d, form)));
      const hex = nixToBase16(...texts);
      assert.deepEqual(
        hex,
        digests.flatMap((d) => NAR_HASH_FORMS.map(() => d.toString('hex'))),
      );
    });

    it('parses what Nix prints with to-sri, to-base32 and to-base64', () => {
      const hex = randomBytes(32).toString('hex');
      for (const [command, prefix] of [
        ['to-sri', ''],
        ['to-base32', 'sha256:'],
        ['to-base64', 'sha256:'],
      ] as const) {
        const out = spawnSync('nix', ['--extra-experimental-features', 'nix-command', 'hash', command, '--type', 'sha256', hex], {
          encoding: 'utf8',
          env: nixEnv(),
        });
        assert.equal(out.status, 0, out.stderr);
        assert.equal(parseNarHash(prefix + out.stdout.trim()).toString('hex'), hex);
      }
    });

    const invalid: [string, string, string][] = [
      ['a wrong length', `sha256:${'a'.repeat(63)}`, 'NAR_HASH_BAD_LENGTH'],
      ['a bad hex char', `sha256:${'g'.repeat(64)}`, 'NAR_HASH_BAD_ENCODING'],
      ['a bad Nix base-32 char', `sha256:${'e'.repeat(52)}`, 'NAR_HASH_BAD_ENCODING'],
      ['excess Nix base-32 bits', `sha256:z${'0'.repeat(51)}`, 'NAR_HASH_BAD_ENCODING'],
      ['a bad base64 char', `sha256:${'!'.repeat(43)}=`, 'NAR_HASH_BAD_ENCODING'],
      ['a short SRI', `sha256-${Buffer.alloc(20).toString('base64')}`, 'NAR_HASH_BAD_LENGTH'],
      ['a sha512 hash', `sha512:${'a'.repeat(128)}`, 'NAR_HASH_UNSUPPORTED_ALGORITHM'],
      ['an md5 SRI', `md5-${Buffer.alloc(16).toString('base64')}`, 'NAR_HASH_UNSUPPORTED_ALGORITHM'],
    ];
    for (const [what, value, code] of invalid) {
      it(`rejects ${what} with ${code}${code === 'NAR_HASH_UNSUPPORTED_ALGORITHM' ? '' : ', as Nix does'}`, () => {
        assertCode(value, code);
        if (code !== 'NAR_HASH_UNSUPPORTED_ALGORITHM') assert.equal(nixToBase16(value), undefined);
      });
    }
  });

  it('requires an algorithm prefix', () => {
    for (const value of ['a'.repeat(64), '', ':abc', '-abc', 'SHA256:' + 'a'.repeat(64)]) assertCode(value, 'NAR_HASH_NO_ALGORITHM');
  });

  it('names an unknown algorithm', () => {
    assert.throws(
      () => parseNarHash('blake9:abc'),
      (error: unknown) => error instanceof NarHashStringError && error.code === 'NAR_HASH_UNSUPPORTED_ALGORITHM' && error.evidence['algorithm'] === 'blake9',
    );
  });
});
