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
  | 'AUDIT_UNKNOWN_PATH';

/** Why an audit or verify run could not start or go on. Evidence names the directory, DB or path. */
export class AuditError extends WardenError<AuditErrorCode> {}
