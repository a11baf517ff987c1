/** Splits a command's arguments into option values and positionals; a line the parser refuses becomes a UsageError naming the option or argument. */
import { parseArgs } from 'node:util';
import type { CommandContext, CommandOptions } from './command.ts';
import { nearestNames } from '../errors/index.ts';
import { didYouMeanAside, UsageError, type UsageErrorCode } from './usage-error.ts';

export interface CommandLine {
  readonly values: CommandContext['values'];
  readonly positionals: readonly string[];
}

/** The usage code of each refusal node:util's parseArgs reports (its errors carry a code, and no other fields). */
const REFUSALS: Readonly<Record<string, UsageErrorCode>> = {
  ERR_PARSE_ARGS_UNKNOWN_OPTION: 'USAGE_UNKNOWN_OPTION',
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: 'USAGE_BAD_VALUE',
  ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: 'USAGE_BAD_ARGUMENT',
};

/**
 * Parses `args` as node:util's parseArgs does in strict mode (what it accepts is unchanged).
 * @throws UsageError USAGE_UNKNOWN_OPTION (with the options near a misspelt one), USAGE_BAD_VALUE (an option without its value, or a flag given one),
 *   USAGE_BAD_ARGUMENT (an argument a command without arguments was given), naming the option or argument.
 */
export function parseCommandLine(commandName: string, args: readonly string[], options: CommandOptions, allowPositionals: boolean): CommandLine {
  try {
    const parsed = parseArgs({ args: [...args], options, allowPositionals, strict: true });
    return { values: parsed.values as CommandLine['values'], positionals: parsed.positionals };
  } catch (cause) {
    const code = REFUSALS[(cause as { code?: string }).code ?? ''];
    // Anything else (a malformed options table) is a bug of overlay-warden, not of the command line.
    if (code === undefined) throw cause;
    throw describeRefusal(commandName, args, options, allowPositionals, cause) ?? new UsageError(code, (cause as Error).message, { cause });
  }
}

/** The first token the strict parse refused, found by a lenient parse of the same line (the refusal itself is prose only). */
function describeRefusal(
  commandName: string,
  args: readonly string[],
  options: CommandOptions,
  allowPositionals: boolean,
  cause: unknown,
): UsageError | undefined {
  const { tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional' && !allowPositionals) {
      return new UsageError('USAGE_BAD_ARGUMENT', `${commandName} takes no arguments, got ${JSON.stringify(token.value)}`, {
        cause,
        evidence: { argument: token.value, expected: 'no arguments' },
      });
    }
    if (token.kind !== 'option') continue;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    const evidence = { option: token.rawName, value: token.value };
    if (option === undefined) {
      // A short option (`-x`) is one letter: no name is near it.
      const near = token.rawName.startsWith('--') ? nearestNames(token.name, Object.keys(options)) : [];
      return new UsageError('USAGE_UNKNOWN_OPTION', `${commandName} has no option ${token.rawName}${didYouMeanAside(near, (n) => `--${n}`)}`, {
        cause,
        evidence: { option: token.rawName, suggestions: near.map((n) => `--${n}`) },
      });
    }
    if (option.type === 'boolean' && token.value !== undefined) {
      return new UsageError('USAGE_BAD_VALUE', `${token.rawName} takes no value, got ${JSON.stringify(token.value)}`, {
        cause,
        evidence: { ...evidence, expected: 'no value' },
      });
    }
    if (option.type === 'string' && token.value === undefined) {
      return new UsageError('USAGE_BAD_VALUE', `${token.rawName} needs a value`, { cause, evidence: { ...evidence, expected: 'a value' } });
    }
    // parseArgs refuses a value that looks like an option unless it is written `--name=VALUE`.
    if (option.type === 'string' && token.inlineValue === false && token.value !== undefined && token.value.length > 1 && token.value.startsWith('-')) {
      return new UsageError(
        'USAGE_BAD_VALUE',
        `${token.rawName} needs a value, got the option ${JSON.stringify(token.value)} (write --${token.name}=${token.value} if that is the value)`,
        {
          cause,
          evidence: { ...evidence, expected: 'a value' },
        },
      );
    }
  }
  return undefined;
}
