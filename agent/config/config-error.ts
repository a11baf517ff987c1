/** The error every configuration problem becomes: which key, which value, what was expected, where. */
import { WardenError, type WardenErrorOptions } from '../errors/index.ts';

export type ConfigErrorCode =
  'CONFIG_NOT_FOUND' | 'CONFIG_UNREADABLE' | 'CONFIG_SYNTAX' | 'CONFIG_INVALID' | 'CONFIG_INSECURE' | 'CONFIG_NO_STORE' | 'CONFIG_STORE';

/** One bad setting: its dotted key, the value given, what was expected, and where it came from. */
export interface ConfigProblem {
  readonly key: string;
  readonly value: unknown;
  /** What the key takes, as words that read after "expected"; for an unknown key, the keys its section has. */
  readonly expected: string;
  /** True when the key is no setting at all (misspelt, or in the wrong section). */
  readonly unknownKey?: boolean;
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

/** Renders one problem the way every message about configuration reads: `KEY (SOURCE): expected X, got Y`. */
export function describeProblem(problem: ConfigProblem): string {
  const at = `${problem.key || '(top level)'}${problem.source === undefined ? '' : ` (${problem.source})`}`;
  if (problem.unknownKey === true) return `${at}: no such setting; expected ${problem.expected}`;
  return `${at}: expected ${problem.expected}, got ${JSON.stringify(problem.value) ?? 'nothing'}`;
}
