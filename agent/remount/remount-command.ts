/** Resolves and runs the remount command once: trusted executable, bounded time and output, never throws on failure. */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa, type Options } from 'execa';
import { assertTrustedFile, TrustError } from '../config/index.ts';
import { OutputTail, type CapturedOutput } from './output-tail.ts';
import { RemountError } from './remount-errors.ts';

/**
 * The argv to run: the configured command (or the default hook) with the
 * merged store dir appended, as Nix calls its `remount-hook`. Pure.
 */
export function remountArgv(command: readonly string[] | undefined, defaultHook: string, mergedStoreDir: string): string[] {
  return [...(command ?? [defaultHook]), mergedStoreDir];
}

/** The absolute path of `file`: itself when it has a slash, else the first executable match on `PATH`; undefined if none. */
export function resolveExecutable(file: string, path: string | undefined): string | undefined {
  const executable = (candidate: string): boolean => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (file.includes('/')) return isAbsolute(file) && executable(file) ? file : undefined;
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir !== '' && isAbsolute(dir) && executable(join(dir, file))) return join(dir, file);
  }
  return undefined;
}

/**
 * Checks the command's executable before it runs as root: it must exist and be
 * writable only by root or the agent's user (a hook anyone can edit would hand
 * them root). Returns the argv with the executable made absolute. Throws
 * RemountError REMOUNT_COMMAND_NOT_FOUND or REMOUNT_COMMAND_UNTRUSTED.
 * Only argv[0] is checked: an interpreter's script argument is the
 * configuration's responsibility.
 */
export function trustedRemountArgv(argv: readonly string[], path: string | undefined = process.env['PATH']): string[] {
  const [file, ...args] = argv;
  const resolved = file === undefined ? undefined : resolveExecutable(file, path);
  if (resolved === undefined) {
    throw new RemountError(
      'REMOUNT_COMMAND_NOT_FOUND',
      `the remount command ${file ?? '(empty)'} is not an executable file${file?.includes('/') === false ? ' on PATH' : ''}`,
      {
        evidence: { command: argv },
        hint: 'set remount.command to an absolute path of an executable, or leave it unset to use hooks/remount',
      },
    );
  }
  try {
    assertTrustedFile(resolved, 'remount command');
  } catch (cause) {
    const trust = cause as TrustError;
    throw new RemountError('REMOUNT_COMMAND_UNTRUSTED', trust.message, { cause, evidence: { command: argv, ...trust.evidence }, hint: trust.hint });
  }
  return [resolved, ...args];
}

export interface RunCommandOptions {
  /** Killed (SIGTERM to its process group, then SIGKILL after `killGraceMs`) when it runs longer. */
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  /** Aborting kills it the same way (agent stopping). */
  readonly signal?: AbortSignal;
  /** Bytes kept of the end of stdout and of stderr each. */
  readonly maxOutputBytes: number;
  /** Added to the agent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run before argv, as its launcher (`setpriv --pdeathsig KILL --`); not part of the reported argv. */
  readonly launcher?: readonly string[];
  /** Descriptors the command inherits as its 3, 4…: the remount lock, held until it and all it started have exited. */
  readonly inheritFds?: readonly number[];
}

/** How one run of the command went: facts, never prose to parse. */
export interface CommandRun {
  readonly argv: readonly string[];
  /** Exit code, or undefined when killed by a signal or never started. */
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  /** True when it did not die even after SIGKILL (stuck in the kernel) and was left behind. */
  readonly abandoned: boolean;
  /** Why it could not start (e.g. ENOENT, EACCES). */
  readonly spawnError: string | undefined;
  readonly durationMs: number;
  readonly stdout: CapturedOutput;
  readonly stderr: CapturedOutput;
}

/** True when the run exited 0. */
export const commandSucceeded = (run: CommandRun): boolean => run.exitCode === 0 && !run.timedOut && !run.cancelled;

/** The environment every remount command gets: util-linux ≥ 2.39 refuses to remount overlayfs through the new mount API without it. */
export const REMOUNT_ENV = Object.freeze({ LIBMOUNT_FORCE_MOUNT2: 'always' });

/**
 * Runs `argv` once in its own process group (so a hook's children die with
 * it), stdin closed. Resolves when it exits; on timeout or abort, SIGTERM goes
 * to the group, SIGKILL after `killGraceMs`, and if output pipes are still held
 * open (a daemonised grandchild) or the process is stuck they are let go after
 * one more grace: the promise always settles within timeoutMs + 2·killGraceMs
 * of the start or of the abort. Never rejects.
 */
export async function runRemountCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandRun> {
  const [file, ...args] = [...(options.launcher ?? []), ...argv];
  const started = performance.now();
  const stdout = new OutputTail(options.maxOutputBytes);
  const stderr = new OutputTail(options.maxOutputBytes);
  let timedOut = false;
  let cancelled = false;
  let abandoned = false;
  const timers: NodeJS.Timeout[] = [];
  const child = execa(file!, args, {
    detached: true,
    reject: false,
    buffer: false,
    // execa hands a descriptor number to the child as it is, though its types name only 3 to 9.
    stdio: ['ignore', 'pipe', 'pipe', ...(options.inheritFds ?? [])] as unknown as Options['stdio'],
    env: { ...options.env, ...REMOUNT_ENV },
  });
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

  let release: () => void = () => {};
  const released = new Promise<'released'>((resolve) => (release = () => resolve('released')));
  let killing = false;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  };
  const stop = (): void => {
    if (killing) return;
    killing = true;
    killGroup('SIGTERM');
    timers.push(
      setTimeout(() => {
        killGroup('SIGKILL');
        timers.push(
          setTimeout(() => {
            // Still not settled: a grandchild outside the group holds the pipes, or the process is stuck in the kernel.
            child.stdout?.destroy();
            child.stderr?.destroy();
            abandoned = child.exitCode === null && child.signalCode === null;
            release();
          }, options.killGraceMs),
        );
      }, options.killGraceMs),
    );
  };
  const onAbort = (): void => {
    cancelled = true;
    stop();
  };
  timers.push(
    setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs),
  );
  // A hook that exits but leaves a background process holding its stdout must not look hung: let the pipes go.
  let settled = false;
  child.once('exit', () => {
    if (settled) return;
    timers.push(
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, options.killGraceMs),
    );
  });
  if (options.signal?.aborted === true) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await Promise.race([child, released]);
    const exited = result === 'released' ? undefined : result;
    const spawnFailed = exited !== undefined && exited.exitCode === undefined && exited.signal === undefined;
    return {
      argv,
      exitCode: exited?.exitCode ?? child.exitCode ?? undefined,
      signal: exited?.signal ?? child.signalCode ?? undefined,
      timedOut,
      cancelled,
      abandoned: result === 'released' && abandoned,
      spawnError: spawnFailed ? String((exited.cause as { code?: unknown } | undefined)?.code ?? exited.shortMessage) : undefined,
      durationMs: Math.round(performance.now() - started),
      stdout: stdout.result(),
      stderr: stderr.result(),
    };
  } finally {
    settled = true;
    for (const timer of timers) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The error a failed run reports, or undefined when it succeeded. Pure. */
export function commandRunError(run: CommandRun): RemountError | undefined {
  if (commandSucceeded(run)) return undefined;
  const command = run.argv.join(' ');
  const evidence = { argv: run.argv, exitCode: run.exitCode, signal: run.signal, durationMs: run.durationMs, stderr: run.stderr.text, stdout: run.stdout.text };
  if (run.spawnError !== undefined) {
    return new RemountError('REMOUNT_COMMAND_SPAWN_FAILED', `the remount command ${command} could not start: ${run.spawnError}`, {
      evidence,
      hint: 'check that remount.command names an executable file',
    });
  }
  if (run.cancelled) return new RemountError('REMOUNT_CANCELLED', `the remount command ${command} was stopped because the agent is stopping`, { evidence });
  if (run.timedOut) {
    return new RemountError(
      'REMOUNT_COMMAND_TIMED_OUT',
      `the remount command ${command} did not finish within its timeout and was killed${run.abandoned ? ' (it did not die even after SIGKILL and was left behind)' : ''}`,
      {
        evidence,
        hint: 'see why it hangs (its stderr is in the evidence), or raise remount.timeoutSeconds',
      },
    );
  }
  const how = run.exitCode === undefined ? `was killed by ${run.signal ?? 'a signal'}` : `exited with status ${run.exitCode}`;
  const said = run.stderr.text.trim().split('\n').at(-1);
  return new RemountError('REMOUNT_COMMAND_FAILED', `the remount command ${command} ${how}${said ? `: ${said}` : ''}`, {
    evidence,
    hint: 'its stderr is in the evidence; hooks/remount explains each exit status',
  });
}
