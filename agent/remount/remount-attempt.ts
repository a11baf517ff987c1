/** One attempt's command and its verdict: trust the executable, run it, and turn what happened into an error or none. */
import { WardenError, messageOf } from '../errors/index.ts';
import { commandRunError, runRemountCommand, trustedRemountArgv, type CommandRun, type RunCommandOptions } from './remount-command.ts';
import { RemountError } from './remount-errors.ts';
import type { AttemptReport, ErrorReport, RemountVerification } from './remount-events.ts';

/** How the command of one attempt went: `report` when it ran; `error` when it failed; `retryable: false` when retrying cannot help. */
export interface CommandAttempt {
  readonly report: AttemptReport | undefined;
  readonly error: WardenError | undefined;
  readonly retryable: boolean;
}

/**
 * Resolves `argv[0]` on `path` and checks it may run as root, then runs the command. A missing or untrusted command
 * will not fix itself: it is not run, and not retryable. Never rejects.
 */
export async function runTrustedCommand(
  attempt: number,
  argv: readonly string[],
  path: string | undefined,
  options: RunCommandOptions,
): Promise<CommandAttempt> {
  let trusted: string[];
  try {
    trusted = trustedRemountArgv(argv, path);
  } catch (cause) {
    const error = cause instanceof WardenError ? cause : new RemountError('REMOUNT_COMMAND_NOT_FOUND', messageOf(cause), { cause });
    return { report: undefined, error, retryable: false };
  }
  const run = await runRemountCommand(trusted, options);
  return { report: attemptReport(attempt, run), error: commandRunError(run), retryable: true };
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
