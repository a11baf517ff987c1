/** A path's metadata as a nix-daemon answers QueryPathInfo, read and checked into the Nix DB reader's forms. */
import { formatNarHash, parseNarHash } from '../nar-hash-string.ts';
import { isValidStorePathName, parseStorePath } from '../store-path.ts';
import { DaemonError } from './daemon-error.ts';
import type { FrameReader } from './frame-reader.ts';
import type { PathInfo } from '../nix-db-rows.ts';

/** The DB reader's PathInfo without the DB row id (the one shape of a path's metadata, whichever source); references and sigs sorted. */
export type DaemonPathInfo = Omit<PathInfo, 'id'>;

/**
 * Reads the fields after QueryPathInfo's valid flag (protocol ≥ 1.16 layout), synchronously: NEED_MORE until they
 * are all there (they are read again from the start then: one path's metadata is small).
 * @throws DaemonError DAEMON_BAD_ANSWER (a reference or deriver outside the store dir, a narHash that is not SHA-256),
 *   or what the reader throws.
 */
export function readPathInfo(reader: FrameReader, storeDir: string, path: string): DaemonPathInfo {
  const deriver = reader.string('deriver');
  const hash = reader.string('narHash');
  const references = reader.strings('references');
  const registrationTime = reader.u64('registrationTime');
  const narSize = reader.u64('narSize');
  const ultimate = reader.bool('ultimate');
  const sigs = reader.strings('sigs');
  const ca = reader.string('ca');
  for (const reference of references) checkStorePath(storeDir, reference, 'references');
  if (deriver !== '') checkStorePath(storeDir, deriver, 'deriver');
  return {
    path,
    narHash: normalNarHash(hash),
    narSize,
    registrationTime,
    deriver: deriver === '' ? undefined : deriver,
    ultimate,
    sigs: sigs.sort(),
    ca: ca === '' ? undefined : ca,
    references: references.sort(),
  };
}

const BARE_BASE16 = /^[0-9a-f]{64}$/;

/** `sha256:<base-16>`, the DB reader's form. Nix's bare lower-case base-16 needs no decoding: the common case. */
function normalNarHash(hash: string): string {
  return BARE_BASE16.test(hash) ? `sha256:${hash}` : formatNarHash(narHashBytes(hash), 'base16');
}

/**
 * A store path from the daemon, validated: directly under `storeDir`, with a valid hash part and name.
 * @throws DaemonError DAEMON_BAD_ANSWER.
 */
export function checkStorePath(storeDir: string, value: string, field: string): string {
  if (isCanonicalStorePath(storeDir, value)) return value;
  try {
    parseStorePath(storeDir, value);
    return value;
  } catch (cause) {
    throw new DaemonError('DAEMON_BAD_ANSWER', `nix-daemon sent '${value}' as ${field}, which is not a store path in ${storeDir}`, {
      evidence: { field, value, storeDir },
      hint: 'Check that the daemon serves the store dir the configuration expects (lower-store ... ?real= / store=).',
      cause,
    });
  }
}

/**
 * True for `storeDir/<valid base name>` exactly as Nix writes store paths (no `.`, `..` or doubled slashes to
 * normalise): the daemon's paths are, and this costs no parsing. Anything else goes through parseStorePath.
 */
function isCanonicalStorePath(storeDir: string, value: string): boolean {
  const at = storeDir.length + 1;
  return (
    value.length > at && value.charCodeAt(at - 1) === 0x2f && value.startsWith(storeDir) && value.indexOf('/', at) < 0 && isValidStorePathName(value.slice(at))
  );
}

/** Nix sends the narHash as bare base-16 (`<hex>`); newer ones may prefix `sha256:`. parseNarHash needs the prefix. */
function narHashBytes(hash: string): Buffer {
  try {
    return parseNarHash(hash.includes(':') || hash.startsWith('sha256-') ? hash : `sha256:${hash}`);
  } catch (cause) {
    throw new DaemonError('DAEMON_BAD_ANSWER', `nix-daemon sent narHash '${hash}', which is not a SHA-256 hash`, {
      evidence: { field: 'narHash', value: hash },
      cause,
    });
  }
}
