/** How commands print: JSON for machines, aligned text (coloured on a TTY) for people. */
import { styleText } from 'node:util';
import type { CliIo } from './command.ts';
import { WardenError, messageOf } from '../errors/index.ts';

type Style = Parameters<typeof styleText>[0];

/** Colours text only when the stream is a terminal and NO_COLOR is unset. */
export function paint(io: CliIo, stream: 'stdout' | 'stderr', style: Style, text: string): string {
  return io[stream].isTTY === true && io.env['NO_COLOR'] === undefined ? styleText(style, text, { validateStream: false }) : text;
}

/** Writes one JSON document on stdout (the whole output of a `--json` command). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `key  value` rows with the keys padded to one column. */
export function formatRows(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}

/**
 * Reports an error on stderr (and on stdout as `{"error": …}` with --json): the
 * message, then the hint; a WardenError's code leads so scripts can match it.
 */
export function printError(io: CliIo, json: boolean, error: unknown): void {
  const body = error instanceof WardenError ? error.toJSON() : { code: 'INTERNAL', message: messageOf(error), evidence: {} };
  if (json) printJson(io, { error: body });
  const hint = 'hint' in body && body.hint !== undefined ? `\n${paint(io, 'stderr', 'dim', `hint: ${body.hint}`)}` : '';
  io.stderr.write(`${paint(io, 'stderr', 'red', 'overlay-warden:')} ${body.message} [${body.code}]${hint}\n`);
  if (!(error instanceof WardenError) && error instanceof Error && error.stack !== undefined && io.env['OVERLAY_WARDEN_DEBUG'] !== undefined)
    io.stderr.write(`${error.stack}\n`);
}
