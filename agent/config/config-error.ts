/** The error every configuration problem becomes: which key, which value, what was expected, where. */
import { didYouMean, WardenError, type WardenErrorOptions } from '../errors/index.ts';

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
  /** What a misspelt key (dotted keys) or value was most likely meant as; absent or empty when nothing is near. */
  readonly suggestions?: readonly string[];
}

export class ConfigError extends WardenError<ConfigErrorCode> {
  readonly problems: readonly ConfigProblem[];
  constructor(code: ConfigErrorCode, message: string, problems: readonly ConfigProblem[] = [], options: WardenErrorOptions = {}) {
    super(code, message, { ...options, evidence: { ...options.evidence, problems } });
    this.problems = problems;
  }
}

/**
 * Renders one problem the way every message about configuration reads: `KEY (SOURCE): expected X, got Y`, or
 * `KEY (SOURCE): no such setting; expected one of the keys …`, each with ` (did you mean Z?)` when a name is near.
 */
export function describeProblem(problem: ConfigProblem): string {
  const at = `${problem.key || '(top level)'}${problem.source === undefined ? '' : ` (${problem.source})`}`;
  const unknownKey = problem.unknownKey === true;
  const question = didYouMean(problem.suggestions ?? [], unknownKey ? undefined : (value) => JSON.stringify(value));
  const aside = question === undefined ? '' : ` (${question})`;
  if (unknownKey) return `${at}: no such setting${aside}; expected ${problem.expected}`;
  return `${at}: expected ${problem.expected}, got ${describeValue(problem.value)}${aside}`;
}

/**
 * A value as a message shows it: as JSON, but in YAML's words where JSON has none (`.inf`, `.nan`, which JSON
 * would print as null), and an empty value (`key:` with nothing after it, YAML's null) as such. Pure.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
  return JSON.stringify(value) ?? String(value);
}
