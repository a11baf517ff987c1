/** How the demo talks to people: on stdout, or on stderr with --json (stdout then carries the envelope alone). */
import type { CliIo } from '../command.ts';
import { paint } from '../output.ts';

/** The stream narration goes to: stderr with --json, else stdout. */
export function narrationStream(json: boolean): 'stdout' | 'stderr' {
  return json ? 'stderr' : 'stdout';
}

/** Text for people: on stdout, or on stderr with --json (stdout then carries the envelope alone). */
export function narrate(io: CliIo, json: boolean, text: string): void {
  io[narrationStream(json)].write(text);
}

/** A sentence of the tour, marked `▶` and set apart by blank lines. */
export function say(io: CliIo, json: boolean, text: string): void {
  narrate(io, json, `\n${paint(io, narrationStream(json), 'bold', '▶')} ${text}\n`);
}
