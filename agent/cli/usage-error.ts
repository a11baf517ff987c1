/** The error of a command line overlay-warden cannot run: the one type every command throws for bad options and arguments (exit 2). */
import { didYouMean, WardenError } from '../errors/index.ts';

export type UsageErrorCode =
  /** The first argument names no command (evidence: command, suggestions: the commands near it). */
  | 'USAGE_UNKNOWN_COMMAND'
  /** An option the command does not take (evidence: option, suggestions: its options near it). */
  | 'USAGE_UNKNOWN_OPTION'
  /** An option without the value it needs, with a value it does not take, or with a value out of its range (evidence: option, value, expected). */
  | 'USAGE_BAD_VALUE'
  /** An argument the command does not take, or one that is not what it takes (evidence: argument, expected). */
  | 'USAGE_BAD_ARGUMENT'
  /** Options, or options and arguments, that exclude each other (evidence: options). */
  | 'USAGE_CONFLICT'
  /** A command that needs root, run by another user (evidence: command, uid). */
  | 'USAGE_NOT_ROOT';

/**
 * A bad command line, or a command run by a user it cannot work for. run-cli exits 2 on it (as on a ConfigError),
 * prints the message, and adds `overlay-warden COMMAND --help` as the hint when the error has none (but for
 * USAGE_NOT_ROOT, whose message names the fix).
 */
export class UsageError extends WardenError<UsageErrorCode> {}

/** ` (did you mean X?)`, the way a usage error's message ends when known names are near the given one; '' for none. Pure. */
export function didYouMeanAside(near: readonly string[], spell?: (name: string) => string): string {
  const question = didYouMean(near, spell);
  return question === undefined ? '' : ` (${question})`;
}
