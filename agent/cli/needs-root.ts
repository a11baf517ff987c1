/** Refuses, before it touches anything, a command that needs root in a process that is not root: one line with the cause and the fix. */
import { UsageError } from './usage-error.ts';

/**
 * Returns when the process is root (effective uid 0; inside a user namespace, that namespace's root, as in the demo).
 * Without the check, an unprivileged run fails on whatever root-only path it meets first (EACCES on the state dir,
 * or on the control socket's directory, which even reads as "an agent answers there"), and says nothing of why.
 * `commandLine` is what to run with sudo (`run`, `remount --direct`); `why` says what needs root.
 * @throws UsageError USAGE_NOT_ROOT (evidence: command, uid) when `euid` is not 0.
 */
export function requireRootFor(commandLine: string, why: string, euid: number | undefined = process.geteuid?.()): void {
  if (euid === 0 || euid === undefined) return;
  throw new UsageError('USAGE_NOT_ROOT', `overlay-warden ${commandLine} needs root (${why}): run it as root, e.g. sudo overlay-warden ${commandLine}`, {
    evidence: { command: commandLine, uid: euid },
  });
}
