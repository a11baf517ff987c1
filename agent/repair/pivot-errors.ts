/** The errors of `pivot`: each code names what was refused, and nothing was written to either DB or the lower store. */
import { WardenError } from '../errors/index.ts';

export type PivotErrorCode =
  /** A `--dead` line is not a store path of this store (evidence: lines with their numbers). */
  | 'PIVOT_BAD_DEAD_LIST'
  /** The `--dead` file or the `--lower-db` DB cannot be read. */
  | 'PIVOT_INPUT_UNREADABLE'
  /** The upper layer's filesystem lacks the space (or inodes) the copies need. */
  | 'PIVOT_NO_SPACE'
  /** Copying a lower object into the upper layer failed (nothing of it is left under its real name). */
  | 'PIVOT_COPY_FAILED';

/** `pivot` refused, or stopped before it changed anything it could not undo. */
export class PivotError extends WardenError<PivotErrorCode> {}
