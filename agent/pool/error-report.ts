/** A failure as plain data (code, message, evidence, hint), so a run can record it per item and go on. */
import { WardenError, errnoCode, messageOf, type Evidence } from '../errors/index.ts';

/** The `--json` shape of a WardenError (its `toJSON()`). */
export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly evidence: Evidence;
  readonly hint?: string;
}

/** The code a report gets when the error was not a WardenError (a bug, or a bare Node error). */
export const UNCLASSIFIED_ERROR_CODE = 'POOL_ITEM_FAILED';

/** A WardenError's own report; anything else becomes UNCLASSIFIED_ERROR_CODE with its errno, if any, as evidence. */
export function toErrorReport(error: unknown): ErrorReport {
  if (error instanceof WardenError) return error.toJSON();
  const errno = errnoCode(error);
  const path = (error as { path?: unknown } | null)?.path;
  return {
    code: UNCLASSIFIED_ERROR_CODE,
    message: messageOf(error),
    evidence: {
      name: error instanceof Error ? error.name : typeof error,
      ...(errno === undefined ? {} : { errno }),
      ...(typeof path === 'string' ? { path } : {}),
    },
  };
}
