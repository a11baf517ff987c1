/** `store.corrupt`: a store object whose NAR hash differs from its DB's narHash, or that vanished (pure deciders). */
import { escapeName } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import type { ErrorReport } from '../pool/index.ts';
import { formatNarHash } from '../store/index.ts';

/** Which DB an expectation comes from. */
export type DbSide = 'upper' | 'lower';

/** What one DB says the object's NAR is. */
export interface Expectation {
  readonly db: DbSide;
  /** The DB file, for the evidence. */
  readonly dbFile: string;
  readonly narHash: Buffer;
  readonly narSize: number;
}

/** One object to hash: where it is on disk, and what each DB registering it (at that place) expects. */
export interface VerifyItem {
  /** The logical store path. */
  readonly path: string;
  /** The object in its layer. */
  readonly file: string;
  readonly layer: DbSide;
  readonly expected: readonly Expectation[];
}

/** What hashing found: the digest as lowercase hex and the NAR's size. */
export interface NarMeasurement {
  readonly hash: string;
  readonly narSize: number;
}

/**
 * An error per expectation the measured hash does not meet, as `nix-store --verify --check-contents` reports
 * "path … was modified! expected hash …, got …". Nix compares the hash only; sizes are evidence.
 */
export function judgeMeasurement(item: VerifyItem, measured: NarMeasurement): Finding[] {
  const actual = `sha256:${measured.hash}`;
  const findings: Finding[] = [];
  for (const expectation of item.expected) {
    const expected = formatNarHash(expectation.narHash);
    if (expected === actual) continue;
    findings.push(
      finding(
        'store.corrupt',
        'error',
        `${item.path} was modified: the ${expectation.db} DB expects ${expected}, its content in the ${item.layer} layer hashes to ${actual}`,
        {
          path: item.path,
          file: item.file,
          layer: item.layer,
          db: expectation.db,
          dbFile: expectation.dbFile,
          expectedNarHash: expected,
          actualNarHash: actual,
          expectedNarSize: expectation.narSize,
          actualNarSize: measured.narSize,
        },
        hintFor(item.layer),
      ),
    );
  }
  return findings;
}

/**
 * One error for an item that could not be hashed: `vanished` when its top-level object is missing (ENOENT on the
 * object itself), otherwise `unreadable` with the error's code, message and the file that failed.
 */
export function judgeFailure(item: VerifyItem, error: ErrorReport): Finding {
  const errno = error.evidence['errno'];
  const failedPath = error.evidence['path'] ?? error.evidence['taskPath'];
  const dbs = item.expected.map((e) => e.db);
  // NAR errors name the failed file escaped (escapeName), so the item's file is compared in that form.
  if (errno === 'ENOENT' && (failedPath === undefined || failedPath === escapeName(item.file)))
    return vanished(item.path, item.file, item.layer, dbs, 'missing');
  return finding(
    'store.corrupt',
    'error',
    `${item.path} could not be hashed in the ${item.layer} layer: ${error.message}`,
    { path: item.path, file: item.file, layer: item.layer, dbs, problem: 'unreadable', code: error.code, failedPath, errno },
    'check the file named in failedPath (permissions, an I/O error, a file type a NAR cannot hold)',
  );
}

/** An error for a registered path with nothing on disk where the merged view would look, or hidden by a whiteout. */
export function vanished(path: string, file: string, layer: DbSide, dbs: readonly DbSide[], why: 'missing' | 'whiteout'): Finding {
  const where = why === 'whiteout' ? 'a whiteout in the upper layer hides it' : `it is missing from the ${layer} layer`;
  return finding(
    'store.corrupt',
    'error',
    `${path} vanished from disk: ${where}, yet the ${dbs.join(' and ')} DB${dbs.length === 1 ? '' : 's'} register${dbs.length === 1 ? 's' : ''} it`,
    { path, file, layer, dbs, problem: 'vanished', why },
    'restore it (nix-store --verify --check-contents --repair substitutes it again) or remove its registration once nothing references it',
  );
}

function hintFor(layer: DbSide): string {
  return layer === 'upper'
    ? 'repair it: nix-store --verify --check-contents --repair (substitutes the path again)'
    : 'the lower store was modified: repair the lower store itself (it must not change under a mounted overlay), then remount';
}
