import assert from 'node:assert/strict';
import { parseCommandLine } from '../../agent/cli/parse-command-line.ts';
import { UsageError } from '../../agent/cli/usage-error.ts';

const OPTIONS = { threads: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string', short: 'c' } } as const;

describe('parseCommandLine', () => {
  it('accepts what parseArgs accepts in strict mode, values starting with a dash when written --name=VALUE', () => {
    const { values, positionals } = parseCommandLine('x', ['--threads=-1', '-c', 'f', '--json', 'p'], OPTIONS, true);
    assert.deepEqual([{ ...values }, positionals], [{ threads: '-1', config: 'f', json: true }, ['p']]);
  });

  it('names the option or argument parseArgs refused, in order, with its code', () => {
    const cases: Array<[string[], boolean, string, Record<string, unknown>]> = [
      [['--json', '--frob', '--x'], false, 'USAGE_UNKNOWN_OPTION', { option: '--frob', suggestions: [] }],
      [['--constructor'], false, 'USAGE_UNKNOWN_OPTION', { option: '--constructor', suggestions: [] }],
      [['--treads', '3'], false, 'USAGE_UNKNOWN_OPTION', { option: '--treads', suggestions: ['--threads'] }],
      [['--Json'], false, 'USAGE_UNKNOWN_OPTION', { option: '--Json', suggestions: ['--json'] }],
      [['-j'], false, 'USAGE_UNKNOWN_OPTION', { option: '-j', suggestions: [] }],
      [['-c'], false, 'USAGE_BAD_VALUE', { option: '-c', value: undefined, expected: 'a value' }],
      [['-c', '-x'], false, 'USAGE_BAD_VALUE', { option: '-c', value: '-x', expected: 'a value' }],
      [['--json=no'], false, 'USAGE_BAD_VALUE', { option: '--json', value: 'no', expected: 'no value' }],
      [['--', 'p'], false, 'USAGE_BAD_ARGUMENT', { argument: 'p', expected: 'no arguments' }],
    ];
    for (const [args, positionals, code, evidence] of cases) {
      assert.throws(
        () => parseCommandLine('x', args, OPTIONS, positionals),
        (error: unknown) => {
          assert.ok(error instanceof UsageError, String(error));
          assert.deepEqual([error.code, error.evidence], [code, evidence], args.join(' '));
          return true;
        },
      );
    }
  });

  it('asks "did you mean" for a misspelt option', () => {
    assert.throws(() => parseCommandLine('verify', ['--treads', '3'], OPTIONS, false), {
      message: 'verify has no option --treads (did you mean --threads?)',
    });
    assert.throws(() => parseCommandLine('verify', ['--frob'], OPTIONS, false), { message: 'verify has no option --frob' });
  });

  it('lets a malformed options table through as the bug it is, not as a usage error', () => {
    assert.throws(
      () => parseCommandLine('x', [], { bad: { type: 'number' } } as never, false),
      (error: unknown) => !(error instanceof UsageError) && error instanceof TypeError,
    );
  });
});
