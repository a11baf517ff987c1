/** Parses a list of store paths about to vanish from the lower store (`nix-store --gc --print-dead`'s output). Pure. */
import { parseStorePath, StorePathError } from '../store/index.ts';
import { PivotError } from './pivot-errors.ts';

/** Bad lines named in a PIVOT_BAD_DEAD_LIST error (the count is always complete). */
export const BAD_LINES_SHOWN = 10;

/** One rejected line: its 1-based number, its text (cut to 200 chars) and why. */
export interface BadDeadLine {
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

/**
 * The base names (`<hash>-<name>`) of the store paths listed in `text`, one full path a line under `storeDir`.
 * Blank lines are skipped; nothing else is forgiven (a path in another store dir, a path inside a store object, a
 * name Nix would refuse), since a list that is not what the user thinks would make pivot copy the wrong paths.
 * @throws PivotError PIVOT_BAD_DEAD_LIST naming every bad line's number (evidence: `badLines`, the first
 *   BAD_LINES_SHOWN with reasons, and `badLineCount`).
 */
export function parseDeadList(text: string, storeDir: string, file: string): Set<string> {
  const names = new Set<string>();
  const bad: BadDeadLine[] = [];
  let badCount = 0;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    try {
      names.add(parseStorePath(storeDir, line).baseName);
    } catch (error) {
      if (!(error instanceof StorePathError)) throw error;
      badCount++;
      if (bad.length < BAD_LINES_SHOWN) bad.push({ line: index + 1, text: line.slice(0, 200), reason: error.message });
    }
  });
  if (badCount > 0) {
    const numbers = bad.map((b) => b.line).join(', ');
    throw new PivotError(
      'PIVOT_BAD_DEAD_LIST',
      `${file}: ${badCount} line${badCount === 1 ? ' is' : 's are'} not a store path of this store (${storeDir}): line${badCount === 1 ? '' : 's'} ${numbers}${badCount > bad.length ? ', …' : ''}; first: ${bad[0]!.reason}`,
      {
        evidence: { file, storeDir, badLineCount: badCount, badLines: bad },
        hint: `give one full store path a line, as \`nix-store --store LOWER-ROOT --gc --print-dead\` prints them (${storeDir}/<hash>-<name>)`,
      },
    );
  }
  return names;
}
