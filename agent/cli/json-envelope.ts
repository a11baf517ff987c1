/** The one JSON document every command prints with `--json`: the same top-level keys for every command, success or error. */
import type { Evidence } from '../errors/index.ts';
import type { Finding } from '../findings/index.ts';
import type { CliIo } from './command.ts';

/** Where the JSON Schema of the envelope is, from the package root (README names it; a test validates every command against it). */
export const JSON_OUTPUT_SCHEMA = 'agent/cli/json-output.schema.json';

/** What stopped a command, as `--json` carries it: a WardenError's code, message, evidence and hint. */
export interface JsonError {
  readonly code: string;
  readonly message: string;
  readonly evidence: Evidence;
  readonly hint?: string;
}

/**
 * The envelope. Every key is always there, so a script reads `ok` and `findings` without knowing the command:
 * `result` is null when an error stopped the command, and `error` is null when it ran to the end.
 */
export interface JsonEnvelope<R extends object = object> {
  /** The command that ran; null when the command line named none that exists. */
  readonly command: string | null;
  /** True exactly when `exitCode` is 0. */
  readonly ok: boolean;
  /** What the process exits with (see EXIT in command.ts; 128 + N when signal N stopped it). */
  readonly exitCode: number;
  /** What the command found, in the one finding shape (agent/findings/finding.ts); empty for commands that find nothing. */
  readonly findings: readonly Finding[];
  /** The command's own result (see the schema for each command's). */
  readonly result: R | null;
  readonly error: JsonError | null;
}

/** The envelope of a command that ran to the end (pure). */
export function resultEnvelope<R extends object>(command: string, exitCode: number, findings: readonly Finding[], result: R): JsonEnvelope<R> {
  return { command, ok: exitCode === 0, exitCode, findings, result, error: null };
}

/** The envelope of a command an error stopped (pure); `command` is null when the command line named none. */
export function errorEnvelope(command: string | null, exitCode: number, error: JsonError): JsonEnvelope<never> {
  return { command, ok: exitCode === 0, exitCode, findings: [], result: null, error };
}

/** Writes the envelope on stdout: the whole stdout of a `--json` command. */
export function printEnvelope(io: CliIo, envelope: JsonEnvelope): void {
  io.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
}
