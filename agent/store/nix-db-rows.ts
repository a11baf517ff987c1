/** The records the Nix DB reader returns, and their checked decoding from SQLite rows (pure). */
import { NixDbError } from './nix-db-error.ts';

/** One ValidPaths row, as Nix reads it. */
export interface ValidPathRow {
  /** ValidPaths.id: stable within this DB only; joins with iterateReferenceIds. */
  readonly id: number;
  /** The full store path (`/nix/store/<hash>-<name>`), as registered (not validated here). */
  readonly path: string;
  /** The narHash as stored: `sha256:<base-16>` (parse with parseNarHash). */
  readonly narHash: string;
  /** NAR size in bytes; 0 when the DB has NULL (Nix reads it the same way: unknown). */
  readonly narSize: number;
  /** Seconds since the epoch. */
  readonly registrationTime: number;
  /** The `.drv` that built it, if recorded (it need not be valid). */
  readonly deriver: string | undefined;
  /** True when this store built it (`ultimate`); NULL reads as false, as in Nix. */
  readonly ultimate: boolean;
  /** Signatures (`name:base64`), from the space-separated `sigs` column. */
  readonly sigs: readonly string[];
  /** Content-address assertion (`fixed:r:sha256:…`, `text:sha256:…`), if any. */
  readonly ca: string | undefined;
}

/** A path's row plus its references (sorted), as `queryPathInfo` returns it. */
export interface PathInfo extends ValidPathRow {
  readonly references: readonly string[];
}

/** One reference edge, by store path. */
export interface ReferenceEdge {
  readonly referrer: string;
  readonly reference: string;
}

/** A realisation of a CA derivation output. */
export interface Realisation {
  /** The table it came from: `Realisations` (Nix 2.4–2.3x) or `BuildTraceV3` (later Nix). */
  readonly table: 'Realisations' | 'BuildTraceV3';
  /**
   * The derivation key as stored: in Realisations the derivation's hash modulo (`sha256:<base-16>`),
   * in BuildTraceV3 the `.drv` store path's base name.
   */
  readonly drvPath: string;
  readonly outputName: string;
  /** Realisations: the full output store path (joined through ValidPaths); BuildTraceV3: the column as stored. */
  readonly outputPath: string;
  readonly signatures: readonly string[];
}

/** Column order of the ValidPaths queries whose array rows decodeValidPathRow reads. */
export const VALID_PATH_SELECT = 'select id, path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca from ValidPaths';

/**
 * Decodes a ValidPaths row selected with VALID_PATH_SELECT (as an array). Types are checked because SQLite
 * does not enforce them: a row Nix could not have written is an error, not a guess.
 * @throws NixDbError NIX_DB_BAD_ROW (evidence: file, id, column, value).
 */
export function decodeValidPathRow(row: readonly unknown[], file: string): ValidPathRow {
  const [id, path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca] = row;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw badRow(file, id, 'id', id, 'an integer');
  if (typeof path !== 'string' || path === '') throw badRow(file, id, 'path', path, 'a non-empty text');
  if (typeof hash !== 'string') throw badRow(file, id, 'hash', hash, 'a text');
  if (typeof registrationTime !== 'number' || !Number.isSafeInteger(registrationTime))
    throw badRow(file, id, 'registrationTime', registrationTime, 'an integer');
  if (deriver !== null && typeof deriver !== 'string') throw badRow(file, id, 'deriver', deriver, 'a text or NULL');
  if (narSize !== null && (typeof narSize !== 'number' || !Number.isSafeInteger(narSize) || narSize < 0))
    throw badRow(file, id, 'narSize', narSize, 'a non-negative integer or NULL');
  if (ultimate !== null && typeof ultimate !== 'number') throw badRow(file, id, 'ultimate', ultimate, 'an integer or NULL');
  if (sigs !== null && typeof sigs !== 'string') throw badRow(file, id, 'sigs', sigs, 'a text or NULL');
  if (ca !== null && typeof ca !== 'string') throw badRow(file, id, 'ca', ca, 'a text or NULL');
  return {
    id,
    path,
    narHash: hash,
    narSize: narSize ?? 0,
    registrationTime,
    deriver: deriver === null || deriver === '' ? undefined : deriver,
    ultimate: ultimate !== null && ultimate !== 0,
    sigs: splitSpaces(sigs),
    ca: ca === null || ca === '' ? undefined : ca,
  };
}

/** Space-separated list (sigs, signatures) to array; NULL and empty give []. */
export function splitSpaces(value: string | null): string[] {
  return value === null ? [] : value.split(' ').filter((part) => part !== '');
}

/** A store path column (a reference, referrer or realisation output): must be non-empty text. */
export function decodePathColumn(value: unknown, file: string, column: string): string {
  if (typeof value !== 'string' || value === '') throw badRow(file, undefined, column, value, 'a non-empty text');
  return value;
}

function badRow(file: string, id: unknown, column: string, value: unknown, expected: string): NixDbError {
  const shown = typeof value === 'bigint' ? String(value) : value instanceof Uint8Array ? `<${value.length}-byte blob>` : value;
  const where = typeof id === 'number' ? ` of ValidPaths row ${id}` : '';
  return new NixDbError('NIX_DB_BAD_ROW', `Nix DB ${file}: ${column}${where} is ${JSON.stringify(shown) ?? String(shown)}, expected ${expected}`, {
    evidence: { file, id: typeof id === 'number' ? id : undefined, column, value: shown, expected },
    hint: 'The DB was not written by Nix or was edited by hand; check it with nix-store --verify.',
  });
}
