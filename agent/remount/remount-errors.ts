/** Every error the remounter reports, in one place: a refused or missing command, a held lock, a failed or stale remount, a closed remounter. */
import { WardenError } from '../errors/index.ts';

export type RemountErrorCode =
  /** The command's executable can be written by someone other than root or the agent's user. */
  | 'REMOUNT_COMMAND_UNTRUSTED'
  /** The command's executable does not exist (or is not on PATH). */
  | 'REMOUNT_COMMAND_NOT_FOUND'
  /** The command could not be started (spawn failed). */
  | 'REMOUNT_COMMAND_SPAWN_FAILED'
  /** The command exited non-zero or was killed by a signal. */
  | 'REMOUNT_COMMAND_FAILED'
  /** The command ran past its timeout and was killed. */
  | 'REMOUNT_COMMAND_TIMED_OUT'
  /** An earlier remount (left running by a crashed agent, or what a command left behind) still held the remount lock after the timeout. */
  | 'REMOUNT_LOCK_TIMED_OUT'
  /** The remount lock cannot be taken at all: util-linux's flock or setpriv missing or untrusted, or the lock file unusable. */
  | 'REMOUNT_LOCK_UNAVAILABLE'
  /** The command succeeded, but the check afterwards still found the view stale or the mount wrong. */
  | 'REMOUNT_STILL_STALE'
  /** The check afterwards could not run. */
  | 'REMOUNT_VERIFY_FAILED'
  /** The remounter was closed (agent stopping) before the run finished. */
  | 'REMOUNT_CANCELLED'
  /** A request arrived after `close()`. */
  | 'REMOUNTER_CLOSED'
  /** A bug: something threw that should not have (reported, and remounting goes on). */
  | 'REMOUNT_INTERNAL';

export class RemountError extends WardenError<RemountErrorCode> {}
