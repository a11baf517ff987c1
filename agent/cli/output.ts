/** How commands print: JSON for machines, aligned text (coloured on a TTY) for people. */
import { styleText } from 'node:util';
import { EXIT, type CliIo } from './command.ts';
import { WardenError, messageOf } from '../errors/index.ts';
import { errorEnvelope, printEnvelope, type JsonError } from './json-envelope.ts';

type Style = Parameters<typeof styleText>[0];

/** Colours text only when the stream is a terminal and NO_COLOR is unset. */
export function paint(io: CliIo, stream: 'stdout' | 'stderr', style: Style, text: string): string {
  return io[stream].isTTY === true && io.env['NO_COLOR'] === undefined ? styleText(style, text, { validateStream: false }) : text;
}

/**
 * `1 path`, `2 paths`, `0 paths`: a count and its noun, singular only for exactly one. `plural` for nouns that do not
 * take an `s` (`entry`, `entries`). The one place the CLI's text output says how many of something there are.
 */
export function quantity(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** `key  value` rows with the keys padded to one column. */
export function formatRows(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}

/** Which command an error stopped and what the process exits with, for the `--json` envelope. */
export interface ErrorContext {
  readonly command: string | null;
  readonly exitCode: number;
}

/**
 * Reports an error on stderr: the message, the code (so scripts can match it), then the hint; with --json also on
 * stdout, as the envelope with `ok: false` and the error. `of` defaults to no command and exit 2: an error raised
 * before a command was found is a usage error.
 */
export function printError(io: CliIo, json: boolean, error: unknown, of: ErrorContext = { command: null, exitCode: EXIT.usage }): void {
  const body: JsonError = error instanceof WardenError ? error.toJSON() : { code: 'INTERNAL', message: messageOf(error), evidence: {} };
  if (json) printEnvelope(io, errorEnvelope(of.command, of.exitCode, body));
  const hint = body.hint !== undefined ? `\n${paint(io, 'stderr', 'dim', `hint: ${body.hint}`)}` : '';
  io.stderr.write(`${paint(io, 'stderr', 'red', 'overlay-warden:')} ${body.message} [${body.code}]${hint}\n`);
  if (!(error instanceof WardenError) && error instanceof Error && error.stack !== undefined && io.env['OVERLAY_WARDEN_DEBUG'] !== undefined)
    io.stderr.write(`${error.stack}\n`);
}
