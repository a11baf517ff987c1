/** The errors of the lower-store baseline: a state file that cannot be used, a store dir that cannot be listed. */
import { WardenError } from '../errors/index.ts';

/** Every code a BaselineError carries, as a public list. */
export const BASELINE_ERROR_CODES = [
  /** The baseline file exists but cannot be read (permissions, I/O). */
  'BASELINE_UNREADABLE',
  /** The baseline file is damaged: bad magic, lengths, checksum, metadata, or unsorted keys. */
  'BASELINE_CORRUPT',
  /** The baseline file was written by another format version. */
  'BASELINE_UNSUPPORTED_VERSION',
  /** The baseline describes another lower store dir than the configured one. */
  'BASELINE_OTHER_STORE',
  /** The baseline could not be written (evidence: errno). */
  'BASELINE_WRITE_FAILED',
  /** A store dir (lower store or upper layer) could not be listed (evidence: dir, errno). */
  'BASELINE_SCAN_FAILED',
  /** The lower DB file exists but cannot be stat-ed (evidence: file, errno). */
  'BASELINE_DB_UNREADABLE',
] as const;

export type BaselineErrorCode = (typeof BASELINE_ERROR_CODES)[number];

/**
 * A baseline that cannot be loaded, saved or built. For the first four codes the agent starts afresh (treats the
 * baseline as absent, reports the error, and saves a new one); the bad file's path is in `evidence.file`.
 */
export class BaselineError extends WardenError<BaselineErrorCode> {}
