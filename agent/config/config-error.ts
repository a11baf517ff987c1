/** The error every configuration problem becomes: which key, which value, what was expected, where. */
import { WardenError, type WardenErrorOptions } from '../errors/index.ts';

export type ConfigErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_INVALID'
  | 'CONFIG_INSECURE'
  | 'CONFIG_NO_STORE'
  | 'CONFIG_STORE';

/** One bad setting: its dotted key, the value given, what was expected, and where it came from. */
export interface ConfigProblem {
  readonly key: string;
  readonly value: unknown;
  readonly expected: string;
  /** `FILE:LINE`, `env OVERLAY_WARDEN_…`, or `--flag`. */
  readonly source?: string;
}

export class ConfigError extends WardenError<ConfigErrorCode> {
  readonly problems: readonly ConfigProblem[];
  constructor(code: ConfigErrorCode, message: string, problems: readonly ConfigProblem[] = [], options: WardenErrorOptions = {}) {
    super(code, message, { ...options, evidence: { ...options.evidence, problems } });
    this.problems = problems;
  }
}

/** Renders one problem the way every message about configuration reads. */
export function describeProblem(problem: ConfigProblem): string {
  const where = problem.source === undefined ? '' : ` (${problem.source})`;
  return `${problem.key || '(top level)'}${where}: got ${JSON.stringify(problem.value) ?? 'nothing'}; expected ${problem.expected}`;
}
