/** The shape of one CLI command, and the context every command runs with. */
import { constants } from 'node:os';
import type { ParseArgsConfig } from 'node:util';
import type { Config, ConfigFlags } from '../config/index.ts';

/** Where a command writes, and what it knows of its surroundings; injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CommandContext {
  readonly io: CliIo;
  /** `--json`: machine output on stdout, nothing else there. */
  readonly json: boolean;
  readonly flags: ConfigFlags;
  /** The command's own option values and positionals. */
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  /**
   * Loads the configuration (rejects with ConfigError); commands that need none never call it, and so never load the
   * configuration's modules either.
   */
  readonly loadConfig: () => Promise<Config>;
  readonly signal: AbortSignal;
  /** Runs another command line in this process with `io` (the demo runs the commands it shows); resolves to its exit code. */
  readonly runCommandLine: (argv: readonly string[], io: CliIo) => Promise<number>;
}

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * Exit codes shared by every command: 0 fine, 1 error-level findings or failure, 2 bad usage or configuration, 3 no
 * agent answers on the control socket (`status`, `remount`: start one; distinct from 1, which for `status` means the
 * agent runs and finds the mount invalid). A command stopped by a signal exits 128 + its number (interruptedExitCode).
 */
export const EXIT = { ok: 0, findings: 1, usage: 2, noAgent: 3 } as const;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line after `overlay-warden NAME`. */
  readonly usage: string;
  readonly options: CommandOptions;
  /** `[flag, explanation]` rows for `--help`. */
  readonly optionHelp?: ReadonlyArray<readonly [string, string]>;
  readonly allowPositionals?: boolean;
  run(context: CommandContext): Promise<number>;
}

/** Why the command's signal was aborted when a process signal stopped it (cli-process.ts passes one of these). */
export class Interrupted extends Error {
  readonly signalName: NodeJS.Signals;
  constructor(signalName: NodeJS.Signals) {
    super(`interrupted by ${signalName}`);
    this.name = 'Interrupted';
    this.signalName = signalName;
  }
}

/**
 * The exit code of a command its signal stopped: 128 + the signal's number, as shells report it (130 for SIGINT,
 * 143 for SIGTERM); 130 when the abort came from elsewhere.
 */
export function interruptedExitCode(signal: AbortSignal): number {
  const reason: unknown = signal.reason;
  return reason instanceof Interrupted ? 128 + (constants.signals[reason.signalName] ?? 2) : 130;
}
