/** `store.corrupt`: a store object whose NAR hash differs from its DB's narHash, or that vanished (pure deciders). */
import { escapeName } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import type { ErrorReport, NarSource } from '../pool/index.ts';
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

/** The lower layer's object under an upper one: hashed on its own too, so a report can say which copy matches. */
export interface LowerCopy {
  /** Its place in the lower layer (there may be nothing there). */
  readonly file: string;
  /** What the lower DB expects of it when the scope checks the lower store itself; else nothing. */
  readonly expected: readonly Expectation[];
}

/** One store path to hash: where the merged view takes it from, and what each DB judging that object expects. */
export interface VerifyItem {
  /** The logical store path. */
  readonly path: string;
  /** The object the merged view serves: in the upper layer (merged over `lowerCopy` where OverlayFS merges), or in the lower. */
  readonly file: string;
  readonly layer: DbSide;
  /**
   * What the served object must hash to: the DB Nix's overlay store describes the path by (the upper DB when it
   * registers it, else the lower DB) and, when the served object is the lower copy, the lower DB as well.
   */
  readonly expected: readonly Expectation[];
  /** With `layer: 'upper'`: the lower layer's object of the same name. */
  readonly lowerCopy?: LowerCopy;
}

/** What the pool hashes for an item: the served object (an upper one merged over the lower copy, which is hashed on its own too). */
export function hashSource(item: VerifyItem): NarSource {
  return item.lowerCopy === undefined ? item.file : { upper: item.file, lower: item.lowerCopy.file };
}

/** What hashing found: the digest as lowercase hex and the NAR's size; for an upper object, whether it was merged with the lower one. */
export interface NarMeasurement {
  readonly hash: string;
  readonly narSize: number;
  readonly merged?: boolean;
  /** Why the overlay xattrs were not read (opaque dirs, whiteouts and metacopy then counted as plain entries). */
  readonly xattrsUnread?: string;
}

/** What hashing an item's lower copy found: its digest, nothing there, or an error. */
export type LowerCopyOutcome =
  { readonly kind: 'hashed'; readonly measured: NarMeasurement } | { readonly kind: 'absent' } | { readonly kind: 'failed'; readonly error: ErrorReport };

/**
 * Errors for what the measured hashes do not meet, as `nix-store --verify --check-contents` reports "path … was
 * modified! expected hash …, got …" (the hash is compared; sizes are evidence): one per expectation of the served
 * object it misses, saying whether the lower copy (when there is one) matches instead; and one per expectation of
 * the lower copy it misses, unless the served object's finding for the same DB already said so.
 */
export function judgeMeasurement(item: VerifyItem, measured: NarMeasurement, lower?: LowerCopyOutcome): Finding[] {
  const actual = `sha256:${measured.hash}`;
  const servedFrom = item.layer === 'lower' ? 'lower' : measured.merged === true ? 'upper+lower' : 'upper';
  const findings: Finding[] = [];
  const missedDbs = new Set<DbSide>();
  for (const expectation of item.expected) {
    const expected = formatNarHash(expectation.narHash);
    if (expected === actual) continue;
    missedDbs.add(expectation.db);
    const lowerMatches = lower?.kind === 'hashed' ? `sha256:${lower.measured.hash}` === expected : undefined;
    findings.push(
      finding(
        'store.corrupt',
        'error',
        `${item.path} was modified: the ${expectation.db} DB expects ${expected}, ${SERVED[servedFrom]} hashes to ${actual}${lowerCopyText(lower, lowerMatches, expectation.db)}`,
        {
          path: item.path,
          file: item.file,
          layer: item.layer,
          servedFrom,
          db: expectation.db,
          dbFile: expectation.dbFile,
          expectedNarHash: expected,
          actualNarHash: actual,
          expectedNarSize: expectation.narSize,
          actualNarSize: measured.narSize,
          ...lowerCopyEvidence(item, lower, lowerMatches),
          ...(measured.xattrsUnread === undefined ? {} : { xattrsUnread: measured.xattrsUnread }),
        },
        hintFor(item.layer, lowerMatches === true),
      ),
    );
  }
  if (lower?.kind !== 'hashed' || item.lowerCopy === undefined) return findings;
  const lowerActual = `sha256:${lower.measured.hash}`;
  for (const expectation of item.lowerCopy.expected) {
    const expected = formatNarHash(expectation.narHash);
    if (expected === lowerActual || missedDbs.has(expectation.db)) continue;
    findings.push(
      finding(
        'store.corrupt',
        'error',
        `${item.path} was modified in the lower layer: the ${expectation.db} DB expects ${expected}, the lower copy hashes to ${lowerActual}; the merged view serves the upper copy over it, so this shows once the upper copy is removed`,
        {
          path: item.path,
          file: item.lowerCopy.file,
          layer: 'lower',
          servedFrom,
          hidden: true,
          db: expectation.db,
          dbFile: expectation.dbFile,
          expectedNarHash: expected,
          actualNarHash: lowerActual,
          expectedNarSize: expectation.narSize,
          actualNarSize: lower.measured.narSize,
        },
        hintFor('lower', false),
      ),
    );
  }
  return findings;
}

/** How a finding names the object it hashed, by where the merged view takes it from. */
const SERVED = {
  lower: 'its content in the lower layer',
  upper: "what the merged view serves (the upper layer's copy)",
  'upper+lower': "what the merged view serves (the upper layer's copy merged with the lower one)",
} as const;

function lowerCopyText(lower: LowerCopyOutcome | undefined, matches: boolean | undefined, db: DbSide): string {
  if (lower === undefined || lower.kind === 'absent') return '';
  if (lower.kind === 'failed') return `; the lower layer's copy could not be hashed (${lower.error.message})`;
  return matches === true ? `; the lower layer's copy matches the ${db} DB` : `; the lower layer's copy does not match either (sha256:${lower.measured.hash})`;
}

function lowerCopyEvidence(item: VerifyItem, lower: LowerCopyOutcome | undefined, matches: boolean | undefined): Record<string, unknown> {
  if (lower === undefined || item.lowerCopy === undefined) return {};
  const lowerFile = item.lowerCopy.file;
  if (lower.kind === 'absent') return { lowerFile, lowerCopy: 'absent' };
  if (lower.kind === 'failed') return { lowerFile, lowerCopy: 'unreadable', lowerCopyError: lower.error.message };
  return { lowerFile, lowerCopy: matches === true ? 'matches' : 'differs', lowerNarHash: `sha256:${lower.measured.hash}` };
}

/**
 * One error for an item that could not be hashed: `vanished` when its top-level object is missing (ENOENT on the
 * object itself), otherwise `unreadable` with the error's code, message and the file that failed.
 */
export function judgeFailure(item: Pick<VerifyItem, 'path' | 'file' | 'layer' | 'expected'>, error: ErrorReport): Finding {
  const errno = error.evidence['errno'];
  const failedPath = error.evidence['path'] ?? error.evidence['taskPath'];
  const dbs = item.expected.map((e) => e.db);
  // NAR errors name the failed file escaped (escapeName), so the item's file is compared in that form.
  if (errno === 'ENOENT' && (failedPath === undefined || failedPath === escapeName(item.file))) return vanished(item.path, item.file, item.layer, dbs);
  return finding(
    'store.corrupt',
    'error',
    `${item.path} could not be hashed in the ${item.layer} layer: ${error.message}`,
    { path: item.path, file: item.file, layer: item.layer, dbs, problem: 'unreadable', code: error.code, failedPath, errno },
    error.code === 'NAR_OVERLAY_REDIRECT'
      ? (error.hint ?? 'mount with redirect_dir=off and metacopy=off')
      : 'check the file named in failedPath (permissions, an I/O error, a file type a NAR cannot hold)',
  );
}

/** An error for a registered path with nothing on disk where the merged view would look. */
export function vanished(path: string, file: string, layer: DbSide, dbs: readonly DbSide[]): Finding {
  return finding(
    'store.corrupt',
    'error',
    `${path} vanished from disk: it is missing from the ${layer} layer, yet the ${dbs.join(' and ')} DB${dbs.length === 1 ? '' : 's'} register${dbs.length === 1 ? 's' : ''} it`,
    { path, file, layer, dbs, problem: 'vanished' },
    'restore it (nix-store --verify --check-contents --repair substitutes it again) or remove its registration once nothing references it',
  );
}

function hintFor(layer: DbSide, lowerCopyMatches: boolean): string {
  if (layer === 'lower') return 'the lower store was modified: repair the lower store itself (it must not change under a mounted overlay), then remount';
  return lowerCopyMatches
    ? "the lower layer's copy is intact: remove the upper copy so that the merged view serves it again: delete it from the upper layer while the overlay is unmounted, then mount again (for a path both DBs register, nix-store --optimise through the overlay store does this for every such path, then runs its remount-hook)"
    : 'repair it: nix-store --verify --check-contents --repair (substitutes the path again)';
}
