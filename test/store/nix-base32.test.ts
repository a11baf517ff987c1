import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { NIX_BASE32_ALPHABET, NixBase32Error, decodeNixBase32, encodeNixBase32, nixBase32Length } from '../../agent/store/nix-base32.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { requireCommand } from '../support/requirements.ts';

/** Runs nix-hash with `args` and returns its output lines. */
function nixHash(args: string[]): { ok: boolean; lines: string[] } {
  const result = spawnSync('nix-hash', args, { encoding: 'utf8', env: nixEnv() });
  return { ok: result.status === 0, lines: result.stdout.trim().split('\n') };
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof NixBase32Error && error.code === code);
}

describe('nix-base32', () => {
  it('round-trips any byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const text = encodeNixBase32(bytes);
        assert.equal(text.length, nixBase32Length(bytes.length));
        assert.match(text, /^[0123456789abcdfghijklmnpqrsvwxyz]*$/);
        assert.deepEqual(decodeNixBase32(text), bytes);
        assert.deepEqual(decodeNixBase32(text, bytes.length), bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes every valid string to bytes that encode back to it', () => {
    const digit = fc.constantFrom(...NIX_BASE32_ALPHABET);
    // 32 bytes = 52 chars whose first char is 0 or 1 (256 of 260 bits used).
    fc.assert(
      fc.property(fc.constantFrom('0', '1'), fc.array(digit, { minLength: 51, maxLength: 51 }), (first, rest) => {
        const text = first + rest.join('');
        assert.equal(encodeNixBase32(decodeNixBase32(text, 32)), text);
      }),
    );
  });

  describe('against nix-hash', function () {
    before(function () {
      requireCommand(this, 'nix-hash');
    });

    for (const [type, size] of [
      ['sha256', 32],
      ['sha1', 20],
      ['md5', 16],
      ['sha512', 64],
    ] as const) {
      it(`encodes random ${type} hashes as nix-hash --to-base32 does, and decodes them as --to-base16 does`, () => {
        const hashes = Array.from({ length: 40 }, () => randomBytes(size));
        const base32 = nixHash(['--type', type, '--to-base32', ...hashes.map((h) => h.toString('hex'))]);
        assert.ok(base32.ok);
        assert.deepEqual(
          hashes.map((h) => encodeNixBase32(h)),
          base32.lines,
        );
        const base16 = nixHash(['--type', type, '--to-base16', ...base32.lines]);
        assert.deepEqual(
          base32.lines.map((s) => Buffer.from(decodeNixBase32(s)).toString('hex')),
          base16.lines,
        );
      });
    }

    it('rejects excess high bits where nix-hash does', () => {
      const valid = encodeNixBase32(randomBytes(32));
      const excess = `2${valid.slice(1)}`;
      assert.equal(nixHash(['--type', 'sha256', '--to-base16', excess]).ok, false);
      assertCode(() => decodeNixBase32(excess), 'NIX_BASE32_EXCESS_BITS');
      assert.equal(nixHash(['--type', 'sha256', '--to-base16', `1${valid.slice(1)}`]).ok, true);
    });
  });

  it('encodes nothing as the empty string', () => {
    assert.equal(encodeNixBase32(new Uint8Array(0)), '');
    assert.deepEqual(decodeNixBase32(''), new Uint8Array(0));
  });

  it('rejects chars outside the alphabet with their index', () => {
    const valid = encodeNixBase32(new Uint8Array(32).fill(0x5a));
    for (const bad of ['e', 'o', 't', 'u', 'A', '-', ' ', 'é']) {
      const text = `${valid.slice(0, 10)}${bad}${valid.slice(11)}`;
      assert.throws(
        () => decodeNixBase32(text),
        (error: unknown) => error instanceof NixBase32Error && error.code === 'NIX_BASE32_INVALID_CHAR' && error.evidence['index'] === 10,
      );
    }
  });

  it('rejects lengths no byte string encodes to, or not the expected one', () => {
    // 1 byte → 2 chars, 2 bytes → 4 chars: 3 chars is no encoding.
    assert.equal(nixBase32Length(1), 2);
    assert.equal(nixBase32Length(2), 4);
    assertCode(() => decodeNixBase32('000'), 'NIX_BASE32_INVALID_LENGTH');
    assertCode(() => decodeNixBase32('0'), 'NIX_BASE32_INVALID_LENGTH');
    assertCode(() => decodeNixBase32(encodeNixBase32(new Uint8Array(20)), 32), 'NIX_BASE32_INVALID_LENGTH');
  });
});
