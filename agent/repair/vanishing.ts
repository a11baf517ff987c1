/** What the lower store is about to lose, from a `--dead` list or a replacement lower DB. */
import fs from 'node:fs';
import { messageOf, errnoCode } from '../errors/index.ts';
import { openNixDb, type LowerMetadata } from '../store/index.ts';
import { parseDeadList } from './dead-list.ts';
import { PivotError } from './pivot-errors.ts';

/** `--dead FILE` (one store path a line) or `--lower-db NEW-DB` (the DB the lower store is about to be replaced with). */
export type VanishingSource = { readonly kind: 'dead'; readonly file: string } | { readonly kind: 'lower-db'; readonly file: string };

/** The paths about to vanish, as a predicate over base names; `close()` releases a DB it opened (idempotent). */
export interface Vanishing {
  readonly source: VanishingSource;
  /** Paths a `--dead` list names; undefined for a replacement DB (it is asked path by path). */
  readonly listed: number | undefined;
  vanishes(baseName: string): boolean;
  close(): void;
}

/** A `--dead` list larger than this is refused: a million store paths are about 80 MiB. */
export const DEAD_LIST_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Reads the source. `--dead`: every line must be a store path under `storeDir` (parseDeadList). `--lower-db`: a path
 * vanishes when the current lower store (`currentLower`: its DB or its daemon) registers it and NEW-DB does not; NEW-DB is opened read-only
 * and immutable, like a read-only lower store's, so nothing is created beside it.
 * @throws PivotError PIVOT_INPUT_UNREADABLE, PIVOT_BAD_DEAD_LIST; NixDbError when NEW-DB is not a Nix DB.
 */
export function readVanishing(source: VanishingSource, storeDir: string, currentLower: () => LowerMetadata): Vanishing {
  if (source.kind === 'dead') {
    const names = parseDeadList(readDeadFile(source.file), storeDir, source.file);
    return { source, listed: names.size, vanishes: (baseName) => names.has(baseName), close: () => undefined };
  }
  if (!fs.existsSync(source.file)) {
    throw new PivotError('PIVOT_INPUT_UNREADABLE', `the replacement lower DB ${source.file} does not exist`, {
      evidence: { file: source.file },
      hint: 'give the db.sqlite the lower store is about to be replaced with (its `schema` file beside it)',
    });
  }
  const next = openNixDb(source.file, { storeDir, immutable: true });
  return {
    source,
    listed: undefined,
    vanishes: (baseName) => {
      const path = `${storeDir}/${baseName}`;
      return currentLower().isValidPath(path) && !next.isValidPath(path);
    },
    close: () => next.close(),
  };
}

function readDeadFile(file: string): string {
  try {
    const size = fs.statSync(file).size;
    if (size > DEAD_LIST_MAX_BYTES) {
      throw new PivotError('PIVOT_INPUT_UNREADABLE', `${file} is ${size} bytes, more than a list of store paths can be`, {
        evidence: { file, size, max: DEAD_LIST_MAX_BYTES },
      });
    }
    return fs.readFileSync(file, 'utf8');
  } catch (cause) {
    if (cause instanceof PivotError) throw cause;
    throw new PivotError('PIVOT_INPUT_UNREADABLE', `cannot read the --dead list ${file}: ${messageOf(cause)}`, {
      evidence: { file, errno: errnoCode(cause) },
      hint: 'write it with `nix-store --store LOWER-ROOT --gc --print-dead > FILE`',
      cause,
    });
  }
}
