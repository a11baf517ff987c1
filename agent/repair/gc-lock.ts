/**
 * Nix's GC lock: STATE/gc.lock of the overlay store, which Nix's garbage collector holds exclusively for a whole
 * collection. The repairs (dedupe, pivot) hold it the same way for their whole run, so no Nix GC (and no optimise,
 * which takes it too) changes the upper layer under them, and they wait for one that runs.
 */
import { join } from 'node:path';
import { WardenError } from '../errors/index.ts';
import { LockNotTaken, lockFile, type HeldFileLock } from '../lock/index.ts';
import { resolveExecutable, trustedRemountArgv } from '../remount/index.ts';

export type GcLockErrorCode = 'GC_LOCK_TIMED_OUT' | 'GC_LOCK_CANCELLED' | 'GC_LOCK_UNAVAILABLE';

/** Nix's GC lock was not taken. */
export class GcLockError extends WardenError<GcLockErrorCode> {}

/** The GC lock of a Nix state dir (Nix's own name for it). Pure. */
export function gcLockPath(stateDir: string): string {
  return join(stateDir, 'gc.lock');
}

export interface GcLockOptions {
  /** How long to wait for a running GC (or another repair) to finish. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Where util-linux's flock is looked for (default: this process's PATH). */
  readonly path?: string | undefined;
}

/**
 * Takes Nix's GC lock of the state dir `stateDir` exclusively (created 0600 if missing, as Nix creates it), waiting
 * up to `timeoutMs` for its holder. Throws GcLockError: GC_LOCK_TIMED_OUT (someone still holds it: a Nix GC, an
 * optimise, another repair), GC_LOCK_CANCELLED (`signal` aborted), GC_LOCK_UNAVAILABLE (no trusted flock, or the
 * lock file cannot be used).
 */
export async function acquireGcLock(stateDir: string, options: GcLockOptions): Promise<HeldFileLock> {
  const file = gcLockPath(stateDir);
  const path = options.path ?? process.env['PATH'];
  const found = resolveExecutable('flock', path);
  if (found === undefined) {
    throw new GcLockError('GC_LOCK_UNAVAILABLE', "util-linux's flock is not on PATH, and taking Nix's GC lock needs it", {
      evidence: { file, path: path ?? null },
      hint: 'install util-linux',
    });
  }
  const flock = trustedRemountArgv([found], path)[0]!;
  try {
    return await lockFile(file, { timeoutMs: options.timeoutMs, signal: options.signal, flock });
  } catch (error) {
    if (!(error instanceof LockNotTaken)) throw error;
    const { failure } = error;
    if (failure.kind === 'cancelled') throw new GcLockError('GC_LOCK_CANCELLED', `stopped waiting for Nix's GC lock ${file}`, { evidence: { file } });
    if (failure.kind === 'timed-out') {
      throw new GcLockError(
        'GC_LOCK_TIMED_OUT',
        `Nix's GC lock ${file} is still held after ${options.timeoutMs / 1000} s: a garbage collection, an optimise or another repair is running`,
        {
          evidence: { file, timeoutMs: options.timeoutMs },
          hint: `wait for it to finish (\`fuser -v ${file}\` shows who holds it), or give more time with --lock-timeout`,
        },
      );
    }
    throw new GcLockError('GC_LOCK_UNAVAILABLE', failure.message, {
      evidence: failure.evidence,
      hint: "the overlay store's state dir must exist and be writable by root (Nix creates gc.lock there)",
      ...(failure.cause === undefined ? {} : { cause: failure.cause }),
    });
  }
}
