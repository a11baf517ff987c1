/** The remount lock: a flock on STATE/remount.lock that every remount holds and its command inherits, so no two remounts overlap, even across a crash. */
import { join } from 'node:path';
import { messageOf } from '../errors/index.ts';
import { LOCK_FD, LockNotTaken, lockFile } from '../lock/index.ts';
import { resolveExecutable, trustedRemountArgv } from './remount-command.ts';
import { RemountError } from './remount-errors.ts';

/** The lock file's name in the state dir. */
export const REMOUNT_LOCK_FILE = 'remount.lock';

/** The lock file of a state dir. Pure. */
export function remountLockPath(stateDir: string): string {
  return join(stateDir, REMOUNT_LOCK_FILE);
}

/** The descriptor the command gets the lock on: the first after stdin, stdout and stderr. */
export const REMOUNT_LOCK_FD = LOCK_FD;

/** A lock this agent holds, to hand to the command it runs. */
export interface HeldRemountLock {
  /** The agent's descriptor of the locked file; the command gets it as its descriptor REMOUNT_LOCK_FD. */
  readonly fd: number;
  /** What the command's argv is run under: `setpriv --pdeathsig KILL --`, so the command dies with the agent. */
  readonly launcher: readonly string[];
  /** Lets go of the agent's share; the lock is free once the command and all it started have exited too. Idempotent. */
  release(): void;
}

export interface AcquireRemountLockOptions {
  /** How long to wait for an earlier remount (an orphan of a crashed agent, or what a command left running) to let go. */
  readonly timeoutMs: number;
  /** Aborting stops the wait (the agent is stopping). */
  readonly signal?: AbortSignal;
  /** Where util-linux's flock and setpriv are looked for (the agent's PATH). */
  readonly path: string | undefined;
}

/**
 * Waits for the remount lock of `stateDir` and takes it. A flock belongs to the open file, not to a process: the
 * agent opens the lock file, flock(1) locks that open file and exits, and the command run with it inherits the
 * descriptor, so the lock is held until the agent let go AND the command and every process it started (it is
 * inherited, whatever the process group) have exited. An agent killed by SIGKILL mid-remount thus leaves the
 * lock held by its command's leftovers, and the next remount, of this agent or of the next one on the same state
 * dir, waits for them; its command runs under `setpriv --pdeathsig KILL` so it dies with the agent that ran it.
 * Throws RemountError REMOUNT_LOCK_TIMED_OUT when the lock is still held after `timeoutMs` (retrying may help),
 * REMOUNT_LOCK_UNAVAILABLE when flock or setpriv is missing or untrusted or the lock file cannot be used (it will
 * not), REMOUNT_CANCELLED when `signal` aborts first.
 */
export async function acquireRemountLock(stateDir: string, options: AcquireRemountLockOptions): Promise<HeldRemountLock> {
  if (options.signal?.aborted === true) throw cancelled(stateDir);
  const flock = lockTool('flock', options.path);
  const setpriv = lockTool('setpriv', options.path);
  const launcher = [setpriv, '--pdeathsig', 'KILL', '--'];
  const file = remountLockPath(stateDir);
  try {
    const held = await lockFile(file, { timeoutMs: options.timeoutMs, signal: options.signal, flock, launcher });
    return { fd: held.fd, launcher, release: held.release };
  } catch (error) {
    if (!(error instanceof LockNotTaken)) throw error;
    const { failure } = error;
    if (failure.kind === 'cancelled') throw cancelled(stateDir);
    if (failure.kind === 'timed-out') {
      throw new RemountError('REMOUNT_LOCK_TIMED_OUT', `an earlier remount still holds the remount lock ${file} after ${options.timeoutMs / 1000} s`, {
        evidence: { file },
        hint: `a remount command left running by a crashed agent, or a process a command left behind, holds it: see \`fuser -v ${file}\``,
      });
    }
    throw unavailable(failure.message, failure.evidence, failure.cause);
  }
}

/** util-linux's `name`, found on `path` and trusted as the command is. */
function lockTool(name: 'flock' | 'setpriv', path: string | undefined): string {
  const found = resolveExecutable(name, path);
  if (found === undefined) throw unavailable(`util-linux's ${name} is not on PATH, and remounting needs it`, { tool: name, path });
  try {
    return trustedRemountArgv([found], path)[0]!;
  } catch (cause) {
    throw unavailable(`util-linux's ${name} cannot be trusted: ${messageOf(cause)}`, { tool: found }, cause);
  }
}

function unavailable(message: string, evidence: Record<string, unknown>, cause?: unknown): RemountError {
  return new RemountError('REMOUNT_LOCK_UNAVAILABLE', message, {
    evidence,
    hint: 'the remount lock needs util-linux (flock, setpriv) and a state dir the agent can write (stateDir)',
    ...(cause === undefined ? {} : { cause }),
  });
}

function cancelled(stateDir: string): RemountError {
  return new RemountError('REMOUNT_CANCELLED', 'the agent is stopping: stopped waiting for the remount lock', {
    evidence: { file: remountLockPath(stateDir) },
  });
}
