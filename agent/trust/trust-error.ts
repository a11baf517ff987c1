/** The one error of trust checks and bounded reads: a file the agent must not read, or cannot read whole. */
import { WardenError } from '../errors/index.ts';

/**
 * `FILE_UNTRUSTED`: the file, a directory on its way or a symlink followed is owned by someone other than root or
 * the agent's user, or others can change it (evidence: `file`, `at` (the component), `role`, `uid`, `mode`,
 * `reason`). `FILE_WRONG_TYPE`: not a regular file (a FIFO, a device, a socket), or not a directory where one is
 * needed (evidence: `file`, `type`, `expected`). `FILE_TOO_LARGE`: more bytes than the reader's cap (evidence:
 * `file`, `size` (undefined for a /proc file, which reports size 0), `maxBytes`). Failing system calls (ENOENT,
 * EACCES, EISDIR…) are thrown as Node's own errors, so callers keep telling "missing" from the rest by errno.
 */
export type TrustErrorCode = 'FILE_UNTRUSTED' | 'FILE_WRONG_TYPE' | 'FILE_TOO_LARGE';

export class TrustError extends WardenError<TrustErrorCode> {}

/** Where the offending component sits: the file itself, a directory it is reached through, or a symlink followed. */
export type TrustRole = 'target' | 'ancestor' | 'symlink';
