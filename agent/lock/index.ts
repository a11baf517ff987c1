/** File locks shared with other processes (Nix's gc.lock, the remount lock): flock(2) through util-linux's flock(1). */
export { lockFile, LockNotTaken, LOCK_FD, type FileLockFailure, type FileLockOptions, type HeldFileLock } from './file-lock.ts';
