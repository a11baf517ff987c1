/** The one base class of every error overlay-warden raises: a stable code, a message for people, the evidence, a hint. */

/** Facts that travel with an error: what was expected and what was found, file names, line numbers. */
export type Evidence = Readonly<Record<string, unknown>>;

export interface WardenErrorOptions {
  /** What was wrong, as facts (never prose to parse). */
  readonly evidence?: Evidence;
  /** The setting, command or action that fixes it. */
  readonly hint?: string;
  /** The lower-level error this one explains. */
  readonly cause?: unknown;
}

/**
 * Base of all overlay-warden errors. Callers branch on `code` (a string literal
 * per module), never on `message`. Subclasses narrow `C` to their own codes.
 */
export class WardenError<C extends string = string> extends Error {
  readonly code: C;
  readonly evidence: Evidence;
  readonly hint: string | undefined;

  constructor(code: C, message: string, options: WardenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.evidence = options.evidence ?? {};
    this.hint = options.hint;
  }

  /** A plain object for `--json` output and logs. */
  toJSON(): { code: C; message: string; evidence: Evidence; hint?: string } {
    return { code: this.code, message: this.message, evidence: this.evidence, ...(this.hint === undefined ? {} : { hint: this.hint }) };
  }
}

/** True when `error` is a WardenError, optionally with the given code. */
export function isWardenError<C extends string>(error: unknown, code?: C): error is WardenError<C> {
  return error instanceof WardenError && (code === undefined || error.code === code);
}

/** The errno code of a Node system error (`ENOENT`, `EACCES`…), or undefined. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
