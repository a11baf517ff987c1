/** The shape of one CLI command, and the context every command runs with. */
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
  /** Loads the configuration (throws ConfigError); commands that need none never call it. */
  readonly loadConfig: () => Config;
  readonly signal: AbortSignal;
}

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** Exit codes shared by every command: 0 fine, 1 error-level findings or failure, 2 bad usage or configuration. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

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
