/** The error of a command line overlay-warden cannot run: the one type every command throws for bad options and arguments (exit 2). */
import { WardenError } from '../errors/index.ts';

export type UsageErrorCode =
  /** The first argument names no command (evidence: command). */
  | 'USAGE_UNKNOWN_COMMAND'
  /** An option the command does not take (evidence: option). */
  | 'USAGE_UNKNOWN_OPTION'
  /** An option without the value it needs, with a value it does not take, or with a value out of its range (evidence: option, value, expected). */
  | 'USAGE_BAD_VALUE'
  /** An argument the command does not take, or one that is not what it takes (evidence: argument, expected). */
  | 'USAGE_BAD_ARGUMENT'
  /** Options, or options and arguments, that exclude each other (evidence: options). */
  | 'USAGE_CONFLICT';

/**
 * A bad command line. run-cli exits 2 on it (as on a ConfigError), prints the message, and adds
 * `overlay-warden COMMAND --help` as the hint when the error has none.
 */
export class UsageError extends WardenError<UsageErrorCode> {}
