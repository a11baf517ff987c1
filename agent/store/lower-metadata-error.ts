/** The error of the lower-metadata view (lower-metadata.ts) where it is not the DB's or the daemon client's own. */
import { WardenError, type WardenErrorOptions } from '../errors/index.ts';

export const LOWER_METADATA_ERROR_CODES = [
  /** The lower store has neither a DB file overlay-warden can read nor a daemon socket. */
  'LOWER_METADATA_NO_SOURCE',
  /** A path of a daemon snapshot whose metadata was not read (a snapshot of some rows only: see DaemonSnapshotRequest). */
  'LOWER_METADATA_NOT_READ',
  /** A hash part that is not 32 Nix base-32 chars. */
  'LOWER_METADATA_BAD_HASH_PART',
  /** Used after close(). */
  'LOWER_METADATA_CLOSED',
] as const;

export type LowerMetadataErrorCode = (typeof LOWER_METADATA_ERROR_CODES)[number];

export class LowerMetadataError extends WardenError<LowerMetadataErrorCode> {
  constructor(code: LowerMetadataErrorCode, message: string, options: WardenErrorOptions = {}) {
    super(code, message, options);
  }
}
