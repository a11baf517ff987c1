import assert from 'node:assert/strict';
import { oneOfOptions, wholeNumberOption } from '../../agent/cli/option-values.ts';
import { UsageError } from '../../agent/cli/usage-error.ts';

const usageError =
  (code: string, evidence: Record<string, unknown>) =>
  (error: unknown): boolean => {
    assert.ok(error instanceof UsageError, String(error));
    assert.deepEqual([error.code, error.evidence], [code, evidence]);
    return true;
  };

describe('wholeNumberOption', () => {
  it('reads whole numbers within the bounds; undefined when the option is not given', () => {
    assert.equal(wholeNumberOption({ n: '1' }, 'n', 1, 10), 1);
    assert.equal(wholeNumberOption({ n: '010' }, 'n', 1, 10), 10);
    assert.equal(wholeNumberOption({}, 'n', 1, 10), undefined);
  });

  it('refuses anything else, naming the option, the value and the range', () => {
    for (const value of ['0', '11', '1.5', '1e1', '0x5', ' 5', '-1', '', 'x']) {
      assert.throws(
        () => wholeNumberOption({ n: value }, 'n', 1, 10),
        usageError('USAGE_BAD_VALUE', { option: '--n', value, expected: 'a whole number from 1 to 10' }),
        value,
      );
    }
    assert.throws(() => wholeNumberOption({ n: '0' }, 'n', 1, 10), /^UsageError: --n takes a whole number from 1 to 10, got "0"$/);
  });
});

describe('oneOfOptions', () => {
  it('gives the one flag set, or undefined', () => {
    assert.equal(oneOfOptions({ a: true, b: false }, ['a', 'b']), 'a');
    assert.equal(oneOfOptions({}, ['a', 'b']), undefined);
  });

  it('refuses two or more, naming them and why', () => {
    assert.throws(() => oneOfOptions({ a: true, b: true, c: true }, ['a', 'b', 'c']), usageError('USAGE_CONFLICT', { options: ['--a', '--b', '--c'] }));
    assert.throws(() => oneOfOptions({ a: true, b: true }, ['a', 'b'], 'a does b'), /^UsageError: --a and --b exclude each other: give one \(a does b\)$/);
  });
});
