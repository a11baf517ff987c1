/** One attempt's command and its verdict: trust the executable, take the remount lock, run it, and turn what happened into an error or none. */
import { WardenError, isWardenError, messageOf } from '../errors/index.ts';
import { commandRunError, runRemountCommand, trustedRemountArgv, type CommandRun, type RunCommandOptions } from './remount-command.ts';
import { RemountError } from './remount-errors.ts';
import type { AttemptReport, ErrorReport, RemountVerification } from './remount-events.ts';
import { acquireRemountLock, type HeldRemountLock } from './remount-lock.ts';

/**
 * How the command of one attempt went: `report` when it ran; `error` when it failed; `retryable: false` when retrying
 * cannot help; `lock` when it ran, held until the caller releases it (after the check of the remount).
 */
export interface CommandAttempt {
  readonly report: AttemptReport | undefined;
  readonly error: WardenError | undefined;
  readonly retryable: boolean;
  readonly lock: HeldRemountLock | undefined;
}

/**
 * Resolves `argv[0]` on `path` and checks it may run as root, waits for the remount lock of `stateDir` (at most
 * `timeoutMs`), then runs the command with the lock, under setpriv so that it dies with the agent (remount-lock.ts).
 * A missing or untrusted command, or a lock that cannot be had at all, will not fix itself: not run, and not
 * retryable; a lock still held by an earlier remount after the wait is retryable. The caller must release the
 * returned `lock`. Never rejects.
 */
export async function runTrustedCommand(
  attempt: number,
  argv: readonly string[],
  path: string | undefined,
  options: RunCommandOptions & { readonly stateDir: string },
): Promise<CommandAttempt> {
  let trusted: string[];
  let lock: HeldRemountLock;
  try {
    trusted = trustedRemountArgv(argv, path);
    lock = await acquireRemountLock(options.stateDir, {
      timeoutMs: options.timeoutMs,
      path,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (cause) {
    const error = cause instanceof WardenError ? cause : new RemountError('REMOUNT_COMMAND_NOT_FOUND', messageOf(cause), { cause });
    const retryable = isWardenError(error, 'REMOUNT_LOCK_TIMED_OUT') || isWardenError(error, 'REMOUNT_CANCELLED');
    return { report: undefined, error, retryable, lock: undefined };
  }
  try {
    const run = await runRemountCommand(trusted, { ...options, launcher: lock.launcher, inheritFds: [lock.fd] });
    return { report: attemptReport(attempt, run), error: commandRunError(run), retryable: true, lock };
  } catch (cause) {
    lock.release();
    throw cause;
  }
}

/**
 * The error that fails an attempt whose command succeeded: the verifier's own (it threw or timed out), or
 * REMOUNT_STILL_STALE when the check found the view not fresh (its first error-level finding says why); undefined
 * when fresh. Pure.
 */
export function verificationError(verification: RemountVerification | RemountError): RemountError | undefined {
  if (!('fresh' in verification)) return verification;
  if (verification.fresh) return undefined;
  const first = verification.findings.find((f) => f.severity === 'error');
  return new RemountError(
    'REMOUNT_STILL_STALE',
    `the remount command succeeded, but the check afterwards still finds a problem${first === undefined ? '' : `: ${first.message}`}`,
    {
      evidence: { findings: verification.findings.map((f) => f.id) },
      hint: first?.hint ?? 'see the findings; `overlay-warden check` shows them in full',
    },
  );
}

/** An error as plain data, for events, outcomes and the state file. */
export function errorReport(error: WardenError): ErrorReport {
  return error.hint === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, hint: error.hint };
}

function attemptReport(attempt: number, run: CommandRun): AttemptReport {
  return {
    attempt,
    argv: run.argv,
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    durationMs: run.durationMs,
    stdout: run.stdout,
    stderr: run.stderr,
  };
}
