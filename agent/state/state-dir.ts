/** The agent's state dir, checked before the agent starts: a directory, that nobody but root (or the agent's user) can change, that the agent can write. */
import { closeSync, constants, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import { TrustError, inDirectory, withTrustedDirectory } from '../trust/index.ts';
import { StateFileError, describeFailure, tempNameOf } from './atomic-file.ts';

const FIX_SETTING = 'stateDir in the configuration, --state-dir or OVERLAY_WARDEN_STATE_DIR';

/**
 * Makes the state dir if missing (mode 0700, parents too), then checks it: a directory (symlinks followed only when
 * trusted), owned by root or the agent's user and writable by nobody else, reached through directories that are
 * the same (writable by others only when sticky), and writable by the agent (a file is created and removed in it).
 * The agent writes its baseline and its remount flag there as root, and believes what it reads back.
 * Throws StateFileError STATE_DIR_NOT_DIRECTORY, STATE_DIR_UNTRUSTED or STATE_DIR_NOT_WRITABLE, each saying what
 * to do.
 */
export function prepareStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    const code = errnoCode(cause);
    if (code === 'EEXIST' || code === 'ENOTDIR') throw notDirectory(dir, `${code === 'EEXIST' ? 'something else is there' : 'a file is on its way'}`, cause);
    throw notWritable(dir, `it cannot be created: ${describeFailure(cause)}`, cause);
  }
  try {
    withTrustedDirectory(dir, { what: 'state dir' }, ({ fd }) => {
      // Root may write anywhere the mode says it may not, but not on a read-only filesystem: only a write tells.
      const probe = inDirectory(fd, tempNameOf('write-probe'));
      closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
      unlinkSync(probe);
    });
  } catch (cause) {
    if (cause instanceof TrustError && cause.code === 'FILE_UNTRUSTED') {
      throw new StateFileError('STATE_DIR_UNTRUSTED', cause.message, {
        cause,
        evidence: { ...cause.evidence, dir },
        hint: `${cause.hint ?? ''}; or set ${FIX_SETTING} to a directory only root can write (the default is /var/lib/overlay-warden)`,
      });
    }
    if (cause instanceof TrustError || errnoCode(cause) === 'ENOTDIR') throw notDirectory(dir, describeFailure(cause), cause);
    throw notWritable(dir, describeFailure(cause), cause);
  }
}

function notDirectory(dir: string, why: string, cause: unknown): StateFileError {
  return new StateFileError('STATE_DIR_NOT_DIRECTORY', `the state dir ${dir} is not a directory: ${why}`, {
    cause,
    evidence: { dir, errno: errnoCode(cause) },
    hint: `set ${FIX_SETTING} to a directory, or move what is at ${dir} away`,
  });
}

function notWritable(dir: string, why: string, cause: unknown): StateFileError {
  return new StateFileError('STATE_DIR_NOT_WRITABLE', `the agent cannot write in its state dir ${dir}: ${why}`, {
    cause,
    evidence: { dir, errno: errnoCode(cause) },
    hint: `make ${dir} writable by the agent's user on a writable filesystem, or set ${FIX_SETTING} to one that is`,
  });
}
