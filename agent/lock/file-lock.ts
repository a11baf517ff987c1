/**
 * Exclusive flock(2) locks from Node, which has no flock call: this process opens the lock file, util-linux's
 * flock(1) locks that open file (a flock belongs to the open file description, not to a process) and exits, and this
 * process holds the lock for as long as it keeps the descriptor open, as do children it hands the descriptor to.
 * Nix takes its own locks (gc.lock) the same way, with flock(2), so the two exclude each other.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Options } from 'execa';
import { errnoCode, messageOf } from '../errors/index.ts';

/** The status flock(1) is told to exit with when its wait times out (EX_TEMPFAIL: its own errors use other EX_* values). */
const FLOCK_TIMED_OUT = 75;
/** The descriptor flock(1) gets the open file on: the first after stdin, stdout and stderr. */
export const LOCK_FD = 3;

/** Why a lock was not taken. */
export type FileLockFailure =
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'unavailable'; readonly message: string; readonly evidence: Record<string, unknown>; readonly cause?: unknown };

/** A lock this process holds. */
export interface HeldFileLock {
  readonly file: string;
  /** This process's descriptor of the locked file (hand it to a child to share the lock). */
  readonly fd: number;
  /** Closes this process's descriptor: the lock is free once every process holding the open file has let go. Idempotent. */
  release(): void;
}

export interface FileLockOptions {
  /** How long to wait for another holder to let go (0: do not wait). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** flock(1), and the argv prefix it runs under (e.g. `setpriv --pdeathsig KILL --`): resolved and trusted by the caller. */
  readonly flock: string;
  readonly launcher?: readonly string[];
  /** Mode of the lock file when it is created (and of its directory, made if missing). */
  readonly createMode?: number;
}

/**
 * Takes an exclusive flock on `file` (opened read-write, created if missing, never through a symlink, and only if
 * it is a regular file), waiting up to `timeoutMs`. Resolves with the held lock; rejects with a FileLockFailure-shaped
 * `LockNotTaken` (callers word their own typed errors from it).
 */
export async function lockFile(file: string, options: FileLockOptions): Promise<HeldFileLock> {
  if (options.signal?.aborted === true) throw new LockNotTaken({ kind: 'cancelled' });
  const fd = openLockFile(file, options.createMode ?? 0o600);
  try {
    // execa (about 150 modules) loads when a lock is taken, not with every module that imports this part.
    const { execa } = await import('execa');
    const launcher = options.launcher ?? [];
    const argv = [...launcher, options.flock, '--wait', String(options.timeoutMs / 1000), '--conflict-exit-code', String(FLOCK_TIMED_OUT), String(LOCK_FD)];
    const wait = await execa(argv[0]!, argv.slice(1), {
      // execa hands a descriptor number to the child as it is, though its types name only 3 to 9.
      stdio: ['ignore', 'ignore', 'pipe', fd] as unknown as Options['stdio'],
      reject: false,
      ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    });
    if (wait.exitCode === 0 && !wait.isCanceled) {
      let open = true;
      return {
        file,
        fd,
        release: () => {
          if (open) closeSync(fd);
          open = false;
        },
      };
    }
    if (wait.isCanceled) throw new LockNotTaken({ kind: 'cancelled' });
    if (wait.exitCode === FLOCK_TIMED_OUT) throw new LockNotTaken({ kind: 'timed-out' });
    throw new LockNotTaken({
      kind: 'unavailable',
      message: `flock could not lock ${file}: ${String(wait.stderr ?? '').trim() || `exit status ${String(wait.exitCode)}`}`,
      evidence: { file, exitCode: wait.exitCode },
    });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** A lock was not taken: `failure` says why. Internal to the callers of lockFile, which turn it into their own typed errors. */
export class LockNotTaken extends Error {
  readonly failure: FileLockFailure;
  constructor(failure: FileLockFailure) {
    super(
      failure.kind === 'unavailable' ? failure.message : `lock ${failure.kind}`,
      failure.kind === 'unavailable' && failure.cause !== undefined ? { cause: failure.cause } : undefined,
    );
    this.name = 'LockNotTaken';
    this.failure = failure;
  }
}

function openLockFile(file: string, mode: number): number {
  let fd: number;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (cause) {
    throw new LockNotTaken({
      kind: 'unavailable',
      message: `cannot open the lock file ${file} (${errnoCode(cause) ?? messageOf(cause)})`,
      evidence: { file, errno: errnoCode(cause) },
      cause,
    });
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new LockNotTaken({ kind: 'unavailable', message: `the lock file ${file} is not a regular file`, evidence: { file } });
  }
  return fd;
}
