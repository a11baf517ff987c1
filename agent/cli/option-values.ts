/** Reads a command's option values the way every command does, throwing UsageError naming the option, the value and what it takes. */
import type { CommandContext } from './command.ts';
import { UsageError } from './usage-error.ts';

type OptionValues = CommandContext['values'];

/**
 * `--NAME N` as a number: undefined when the option is not given (nor defaulted).
 * @throws UsageError USAGE_BAD_VALUE when the value is not a whole number from `min` to `max` (`12`, not `1e2` or `0x10`).
 */
export function wholeNumberOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    const expected = `a whole number from ${min} to ${max}`;
    throw new UsageError('USAGE_BAD_VALUE', `--${name} takes ${expected}, got ${JSON.stringify(value)}`, {
      evidence: { option: `--${name}`, value, expected },
    });
  }
  return n;
}

/**
 * The one of the named boolean options that is set, or undefined when none is.
 * @throws UsageError USAGE_CONFLICT when more than one is set; `why` (if given) ends the message.
 */
export function oneOfOptions<N extends string>(values: OptionValues, names: readonly N[], why?: string): N | undefined {
  const set = names.filter((name) => values[name] === true);
  if (set.length > 1) {
    const options = set.map((name) => `--${name}`);
    throw new UsageError(
      'USAGE_CONFLICT',
      `${new Intl.ListFormat('en', { type: 'conjunction' }).format(options)} exclude each other: give one${why === undefined ? '' : ` (${why})`}`,
      { evidence: { options } },
    );
  }
  return set[0];
}
