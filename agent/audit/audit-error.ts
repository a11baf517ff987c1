/** The errors of the store audit and verification (things that stop a run; what a run observes are findings). */
import { WardenError } from '../errors/index.ts';

export type AuditErrorCode =
  /** A layer directory cannot be opened or read. */
  | 'AUDIT_LAYER_UNREADABLE'
  /** The lower store's metadata comes from a daemon: there is no DB file to read. */
  | 'AUDIT_NO_LOWER_DB'
  /** A store path given on the command line is not one (or not in the store dir). */
  | 'AUDIT_BAD_PATH'
  /** A store path given on the command line is registered in neither DB. */
  | 'AUDIT_UNKNOWN_PATH'
  /** Options that contradict each other or a bad value (evidence: option, value). */
  | 'AUDIT_BAD_OPTION';

/** Codes that mean the command line was wrong (exit 2), not the store. */
export const AUDIT_USAGE_CODES: ReadonlySet<AuditErrorCode> = new Set(['AUDIT_BAD_PATH', 'AUDIT_UNKNOWN_PATH', 'AUDIT_BAD_OPTION']);

/** Why an audit or verify run could not start or go on. Evidence names the directory, DB or path. */
export class AuditError extends WardenError<AuditErrorCode> {}
