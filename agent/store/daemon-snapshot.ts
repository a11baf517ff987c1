/**
 * A nix-daemon's metadata read into memory (daemon-snapshot-load.ts does the reading), answering the lower-metadata
 * queries synchronously. Compact: the sorted path list, per-row typed arrays for the fixed-size fields, references as
 * row indices (a CSR), and maps only for the fields most rows lack. Row ids are positions in path order, from 1.
 */
import { formatNarHash } from './nar-hash-string.ts';
import { isNixBase32Char } from './nix-base32.ts';
import { STORE_PATH_HASH_LENGTH } from './store-path.ts';
import { LowerMetadataError } from './lower-metadata-error.ts';
import type { LowerMetadata, LowerMetadataGap } from './lower-metadata.ts';
import type { PathInfo, Realisation, ReferenceEdge, ValidPathRow } from './nix-db-rows.ts';

/** What a snapshot holds: rows `first`…`first + narSizes.length - 1` (0-based in `paths`) have metadata, where `read` says so. */
export interface DaemonSnapshotData {
  readonly source: string;
  readonly storeDir: string;
  readonly gaps: readonly LowerMetadataGap[];
  /** Every valid path known, sorted. */
  readonly paths: readonly string[];
  /** Index in `paths` of the first row with metadata. */
  readonly first: number;
  /** Per row from `first`: 1 when its metadata was read (0: it vanished between listing and reading). */
  readonly read: Uint8Array;
  /** 32 bytes per row from `first`. */
  readonly narHashes: Buffer;
  readonly narSizes: Float64Array;
  readonly registrationTimes: Float64Array;
  readonly ultimate: Uint8Array;
  /** Row (from `first`) → deriver, sigs, ca, for the rows that have them. */
  readonly derivers: ReadonlyMap<number, string>;
  readonly sigs: ReadonlyMap<number, readonly string[]>;
  readonly cas: ReadonlyMap<number, string>;
  /** References per row from `first` (length rows + 1); targets are indices in `paths`, or `paths.length + k` for `foreign[k]`. */
  readonly refOffsets: Uint32Array;
  readonly refTargets: Uint32Array;
  /** Referenced paths that are not valid. */
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
    for (let row = Math.max(afterId, data.first); row < data.first + data.read.length; row++) {
      if (data.read[row - data.first] === 1) yield this.#row(data, row);
    }
  }

  countValidPaths(): number {
    return this.#open().paths.length;
  }

  isValidPath(storePath: string): boolean {
    return this.#indexOf(storePath) >= 0;
  }

  queryPathInfo(storePath: string): PathInfo | undefined {
    const row = this.#indexOf(storePath);
    if (row < 0) return undefined;
    const data = this.#readRow(row, storePath);
    return { ...this.#row(data, row), references: this.#referencesOf(data, row) };
  }

  queryReferences(storePath: string): string[] | undefined {
    const row = this.#indexOf(storePath);
    return row < 0 ? undefined : this.#referencesOf(this.#readRow(row, storePath), row);
  }

  queryReferrers(storePath: string): string[] | undefined {
    const row = this.#indexOf(storePath);
    if (row < 0) return undefined;
    const data = this.#open();
    const referrers = this.#reverse(data);
    const out: string[] = [];
    for (let i = referrers.offsets[row] as number; i < (referrers.offsets[row + 1] as number); i++) out.push(data.paths[referrers.sources[i] as number] as string);
    return out;
  }

  queryPathFromHashPart(hashPart: string): string | undefined {
    let valid = hashPart.length === STORE_PATH_HASH_LENGTH;
    for (let i = 0; valid && i < hashPart.length; i++) valid = isNixBase32Char(hashPart.charCodeAt(i));
    if (!valid) {
      throw new LowerMetadataError('LOWER_METADATA_BAD_HASH_PART', `'${hashPart}' is not a store path hash part (${STORE_PATH_HASH_LENGTH} Nix base-32 chars)`, {
        evidence: { source: this.source, hashPart },
        hint: `Pass the ${STORE_PATH_HASH_LENGTH} chars between '${this.storeDir}/' and the first '-' of a store path.`,
      });
    }
    const prefix = `${this.storeDir}/${hashPart}`;
    const paths = this.#open().paths;
    const found = paths[lowerBound(paths, prefix)];
    return found?.startsWith(prefix) === true ? found : undefined;
  }

  queryRealisations(): Realisation[] {
    this.#open();
    return [];
  }

  *iterateReferences(): Generator<ReferenceEdge, void, undefined> {
    const data = this.#open();
    for (let i = 0; i < data.read.length; i++) {
      if (data.read[i] !== 1) continue;
      const referrer = data.paths[data.first + i] as string;
      for (const reference of this.#referencesOf(data, data.first + i)) yield { referrer, reference };
    }
  }

  *iterateReferenceIds(batchEdges = DEFAULT_BATCH_EDGES): Generator<Uint32Array, void, undefined> {
    const data = this.#open();
    let batch = new Uint32Array(Math.max(1, batchEdges) * 2);
    let length = 0;
    for (let i = 0; i < data.read.length; i++) {
      for (let t = data.refOffsets[i] as number; t < (data.refOffsets[i + 1] as number); t++) {
        batch[length++] = data.first + i + 1;
        batch[length++] = (data.refTargets[t] as number) + 1;
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

  /** Index in `paths` of `storePath`, or -1. */
  #indexOf(storePath: string): number {
    const paths = this.#open().paths;
    const at = lowerBound(paths, storePath);
    return paths[at] === storePath ? at : -1;
  }

  #readRow(row: number, storePath: string): DaemonSnapshotData {
    const data = this.#open();
    const local = row - data.first;
    if (local < 0 || local >= data.read.length || data.read[local] !== 1) {
      throw new LowerMetadataError('LOWER_METADATA_NOT_READ', `the metadata of ${storePath} was not read from ${this.source} (a snapshot of some rows only)`, {
        evidence: { source: this.source, path: storePath },
        hint: 'Open the lower metadata for this path (openLowerMetadata with its paths).',
      });
    }
    return data;
  }

  #row(data: DaemonSnapshotData, row: number): ValidPathRow {
    const local = row - data.first;
    return {
      id: row + 1,
      path: data.paths[row] as string,
      narHash: formatNarHash(data.narHashes.subarray(local * 32, local * 32 + 32), 'base16'),
      narSize: data.narSizes[local] as number,
      registrationTime: data.registrationTimes[local] as number,
      deriver: data.derivers.get(local),
      ultimate: data.ultimate[local] === 1,
      sigs: data.sigs.get(local) ?? [],
      ca: data.cas.get(local),
    };
  }

  #referencesOf(data: DaemonSnapshotData, row: number): string[] {
    const local = row - data.first;
    const out: string[] = [];
    for (let t = data.refOffsets[local] as number; t < (data.refOffsets[local + 1] as number); t++) {
      const target = data.refTargets[t] as number;
      out.push((target < data.paths.length ? data.paths[target] : data.foreign[target - data.paths.length]) as string);
    }
    return out.sort();
  }

  /** The referrers of every valid path (by counting over the references), built on first use. */
  #reverse(data: DaemonSnapshotData): { offsets: Uint32Array; sources: Uint32Array } {
    if (this.#referrers !== undefined) return this.#referrers;
    const count = data.paths.length;
    const offsets = new Uint32Array(count + 1);
    for (const target of data.refTargets) if (target < count) offsets[target + 1]!++;
    for (let row = 0; row < count; row++) offsets[row + 1]! += offsets[row] as number;
    const cursor = offsets.slice(0, count);
    const sources = new Uint32Array(offsets[count] as number);
    for (let i = 0; i < data.read.length; i++) {
      for (let t = data.refOffsets[i] as number; t < (data.refOffsets[i + 1] as number); t++) {
        const target = data.refTargets[t] as number;
        if (target < count) sources[cursor[target]!++] = data.first + i;
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
