/**
 * A nix-daemon's metadata read into memory (daemon-snapshot-load.ts does the reading), answering the lower-metadata
 * queries synchronously. Compact: the sorted paths, per-row typed arrays for the fixed-size fields, references as
 * row indices (a CSR), and maps only for the fields most rows lack. Row ids are positions in the daemon's sorted
 * listing, from 1. A snapshot may hold a window of rows only (a scrub chunk): then it knows how many paths there are,
 * and a query about a path outside the window throws LOWER_METADATA_NOT_READ.
 */
import { formatNarHash } from './nar-hash-string.ts';
import { rowOfPath } from './path-row-index.ts';
import { isNixBase32Char } from './nix-base32.ts';
import { STORE_PATH_HASH_LENGTH } from './store-path.ts';
import { LowerMetadataError } from './lower-metadata-error.ts';
import type { LowerMetadata, LowerMetadataGap } from './lower-metadata.ts';
import type { PathInfo, Realisation, ReferenceEdge, ValidPathRow } from './nix-db-rows.ts';

/** What a snapshot holds. Every per-row array is indexed by row (0 = `paths[0]`, whose id is `first + 1`). */
export interface DaemonSnapshotData {
  readonly source: string;
  readonly storeDir: string;
  readonly gaps: readonly LowerMetadataGap[];
  /** The rows' paths, sorted. */
  readonly paths: readonly string[];
  /** Position of `paths[0]` in the daemon's whole listing (0 unless this is a window). */
  readonly first: number;
  /** Valid paths the daemon has in all (`paths.length` unless this is a window). */
  readonly count: number;
  /** The rows' keys (path-row-index.ts): how a path's row is found. */
  readonly keys: Float64Array;
  /** Per row: 1 when its metadata was read (0: it vanished between listing and reading). */
  readonly read: Uint8Array;
  /** 32 bytes per row. */
  readonly narHashes: Buffer;
  readonly narSizes: Float64Array;
  readonly registrationTimes: Float64Array;
  readonly ultimate: Uint8Array;
  /** Row → deriver, sigs, ca, for the rows that have them. */
  readonly derivers: ReadonlyMap<number, string>;
  readonly sigs: ReadonlyMap<number, readonly string[]>;
  readonly cas: ReadonlyMap<number, string>;
  /** References per row (length rows + 1); targets are rows, or `paths.length + k` for `foreign[k]`. */
  readonly refOffsets: Uint32Array;
  readonly refTargets: Uint32Array;
  /** Referenced paths that are no row here (not valid, or outside the window). */
  readonly foreign: readonly string[];
}

const DEFAULT_BATCH_EDGES = 65_536;

export class DaemonSnapshot implements LowerMetadata {
  readonly source: string;
  readonly storeDir: string;
  readonly gaps: readonly LowerMetadataGap[];
  #data: DaemonSnapshotData | undefined;
  #referrers: { offsets: Uint32Array; sources: Uint32Array } | undefined;

  constructor(data: DaemonSnapshotData) {
    this.#data = data;
    this.source = data.source;
    this.storeDir = data.storeDir;
    this.gaps = data.gaps;
  }

  *iterateValidPaths(afterId = 0): Generator<ValidPathRow, void, undefined> {
    const data = this.#open();
    for (let row = Math.max(0, afterId - data.first); row < data.paths.length; row++) {
      if (data.read[row] === 1) yield this.#row(data, row);
    }
  }

  countValidPaths(): number {
    return this.#open().count;
  }

  isValidPath(storePath: string): boolean {
    return this.#rowOf(storePath) >= 0;
  }

  queryPathInfo(storePath: string): PathInfo | undefined {
    const row = this.#rowOf(storePath);
    if (row < 0) return undefined;
    const data = this.#readRow(row, storePath);
    return { ...this.#row(data, row), references: this.#referencesOf(data, row) };
  }

  queryReferences(storePath: string): string[] | undefined {
    const row = this.#rowOf(storePath);
    return row < 0 ? undefined : this.#referencesOf(this.#readRow(row, storePath), row);
  }

  queryReferrers(storePath: string): string[] | undefined {
    const row = this.#rowOf(storePath);
    if (row < 0) return undefined;
    const data = this.#open();
    // Referrers outside a window are unknown.
    if (data.first > 0 || data.paths.length < data.count) throw this.#notRead(storePath);
    const referrers = this.#reverse(data);
    const out: string[] = [];
    for (let i = referrers.offsets[row] as number; i < (referrers.offsets[row + 1] as number); i++)
      out.push(data.paths[referrers.sources[i] as number] as string);
    return out;
  }

  queryPathFromHashPart(hashPart: string): string | undefined {
    let valid = hashPart.length === STORE_PATH_HASH_LENGTH;
    for (let i = 0; valid && i < hashPart.length; i++) valid = isNixBase32Char(hashPart.charCodeAt(i));
    if (!valid) {
      throw new LowerMetadataError(
        'LOWER_METADATA_BAD_HASH_PART',
        `'${hashPart}' is not a store path hash part (${STORE_PATH_HASH_LENGTH} Nix base-32 chars)`,
        {
          evidence: { source: this.source, hashPart },
          hint: `Pass the ${STORE_PATH_HASH_LENGTH} chars between '${this.storeDir}/' and the first '-' of a store path.`,
        },
      );
    }
    const prefix = `${this.storeDir}/${hashPart}`;
    const data = this.#open();
    const at = lowerBound(data.paths, prefix);
    const found = data.paths[at];
    if (found?.startsWith(prefix) === true) return found;
    this.#assertWithin(data, at, prefix);
    return undefined;
  }

  queryRealisations(): Realisation[] {
    this.#open();
    return [];
  }

  *iterateReferences(): Generator<ReferenceEdge, void, undefined> {
    const data = this.#open();
    for (let row = 0; row < data.paths.length; row++) {
      if (data.read[row] !== 1) continue;
      const referrer = data.paths[row] as string;
      for (const reference of this.#referencesOf(data, row)) yield { referrer, reference };
    }
  }

  *iterateReferenceIds(batchEdges = DEFAULT_BATCH_EDGES): Generator<Uint32Array, void, undefined> {
    const data = this.#open();
    let batch = new Uint32Array(Math.max(1, batchEdges) * 2);
    let length = 0;
    // A reference that is no row gets an id past every row of the listing (an id no row has).
    const idOf = (target: number): number => (target < data.paths.length ? data.first + target + 1 : data.count + target - data.paths.length + 1);
    for (let row = 0; row < data.paths.length; row++) {
      for (let t = data.refOffsets[row] as number; t < (data.refOffsets[row + 1] as number); t++) {
        batch[length++] = data.first + row + 1;
        batch[length++] = idOf(data.refTargets[t] as number);
        if (length === batch.length) {
          yield batch;
          batch = new Uint32Array(batch.length);
          length = 0;
        }
      }
    }
    if (length > 0) yield batch.slice(0, length);
  }

  changedSinceOpen(): boolean {
    return false;
  }

  assertUnchanged(): void {
    this.#open();
  }

  close(): void {
    this.#data = undefined;
    this.#referrers = undefined;
  }

  #open(): DaemonSnapshotData {
    if (this.#data === undefined) {
      throw new LowerMetadataError('LOWER_METADATA_CLOSED', `the lower metadata read from ${this.source} was used after it was closed`, {
        evidence: { source: this.source },
        hint: 'Open it again (openLowerMetadata).',
      });
    }
    return this.#data;
  }

  /** The row of `storePath`, or -1 when it is not valid; NOT_READ when a window cannot tell. */
  #rowOf(storePath: string): number {
    const data = this.#open();
    const row = rowOfPath(data.paths, data.keys, data.storeDir, storePath);
    if (row >= 0) return row;
    this.#assertWithin(data, lowerBound(data.paths, storePath), storePath);
    return -1;
  }

  /** A path that would sort at `at` is known not to be valid only when the window reaches that far on both sides. */
  #assertWithin(data: DaemonSnapshotData, at: number, storePath: string): void {
    const before = at === 0 && data.first > 0;
    const after = at === data.paths.length && data.first + data.paths.length < data.count;
    if (before || after) throw this.#notRead(storePath);
  }

  #readRow(row: number, storePath: string): DaemonSnapshotData {
    const data = this.#open();
    if (data.read[row] !== 1) throw this.#notRead(storePath);
    return data;
  }

  #notRead(storePath: string): LowerMetadataError {
    return new LowerMetadataError('LOWER_METADATA_NOT_READ', `the metadata of ${storePath} was not read from ${this.source} (a snapshot of some rows only)`, {
      evidence: { source: this.source, path: storePath },
      hint: 'Open the lower metadata for this path (openLowerMetadata with its paths).',
    });
  }

  #row(data: DaemonSnapshotData, row: number): ValidPathRow {
    return {
      id: data.first + row + 1,
      path: data.paths[row] as string,
      narHash: formatNarHash(data.narHashes.subarray(row * 32, row * 32 + 32), 'base16'),
      narSize: data.narSizes[row] as number,
      registrationTime: data.registrationTimes[row] as number,
      deriver: data.derivers.get(row),
      ultimate: data.ultimate[row] === 1,
      sigs: data.sigs.get(row) ?? [],
      ca: data.cas.get(row),
    };
  }

  #referencesOf(data: DaemonSnapshotData, row: number): string[] {
    const out: string[] = [];
    for (let t = data.refOffsets[row] as number; t < (data.refOffsets[row + 1] as number); t++) {
      const target = data.refTargets[t] as number;
      out.push((target < data.paths.length ? data.paths[target] : data.foreign[target - data.paths.length]) as string);
    }
    return out.sort();
  }

  /** The referrers of every row (by counting over the references), built on first use. */
  #reverse(data: DaemonSnapshotData): { offsets: Uint32Array; sources: Uint32Array } {
    if (this.#referrers !== undefined) return this.#referrers;
    const rows = data.paths.length;
    const offsets = new Uint32Array(rows + 1);
    for (const target of data.refTargets) if (target < rows) offsets[target + 1]!++;
    for (let row = 0; row < rows; row++) offsets[row + 1]! += offsets[row] as number;
    const cursor = offsets.slice(0, rows);
    const sources = new Uint32Array(offsets[rows] as number);
    for (let row = 0; row < rows; row++) {
      for (let t = data.refOffsets[row] as number; t < (data.refOffsets[row + 1] as number); t++) {
        const target = data.refTargets[t] as number;
        if (target < rows) sources[cursor[target]!++] = row;
      }
    }
    this.#referrers = { offsets, sources };
    return this.#referrers;
  }
}

/** First index of `sorted` whose value is not below `value` (pure; `sorted` in JavaScript's default string order). */
export function lowerBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
