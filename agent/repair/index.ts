/** Store repairs (dedupe, pivot): only the upper layer changes, only under Nix's GC lock. */
export { acquireGcLock, gcLockPath, GcLockError, type GcLockErrorCode, type GcLockOptions } from './gc-lock.ts';
