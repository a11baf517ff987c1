/** Everything the audit's deciders read, gathered once by I/O; deciders are pure functions of it. */
import type { DbIndex } from './db-index.ts';
import type { LayerKeySet, LayerListing } from './layer-listing.ts';
import type { JoinedReferences, RefGraph } from './ref-graph.ts';

/** The outcome of hashing both copies of a duplicate (audit `--hash-duplicates`). */
export interface PairComparison {
  /** Both NAR hashes and sizes are equal. */
  readonly equal: boolean;
  /** `sha256:<hex>` of each copy. */
  readonly upperHash: string;
  readonly lowerHash: string;
}

export interface AuditFacts {
  /** The logical store dir paths are named under (`/nix/store`). */
  readonly storeDir: string;
  /** The OverlayFS upperdir. */
  readonly upperLayer: string;
  /** The lower store's real store dir (an OverlayFS lowerdir). */
  readonly lowerStoreDir: string;
  /** The upper DB, read with hashes. */
  readonly upperDb: DbIndex;
  /** The full store path of an upper-DB row (from kept names, or looked up by hash part in the open DB). */
  readonly upperPathOf: (row: number) => string;
  readonly upperGraph: RefGraph;
  /** The lower DB, joined to the upper one (which upper rows it registers too, and with which narHash). */
  readonly lowerDb: DbIndex;
  /** What the lower DB says the joined rows reference; undefined when references were not compared. */
  readonly lowerReferences: JoinedReferences | undefined;
  /** The upper layer's top level, with names; the kinds of entries that could hide a lower path have their xattrs applied. */
  readonly upperListing: LayerListing;
  /** The lower store dir's top level (which store paths it has). */
  readonly lowerEntries: LayerKeySet;
  /** Whether the upper entries' overlay xattrs could be read (else opaque dirs and xattr whiteouts went unseen, and why). */
  readonly xattrs: { readonly available: true } | { readonly available: false; readonly reason: string };
  /** Bytes removing the upper copy would free, per upper-listing id of each duplicate (absent: not measured). */
  readonly duplicateBytes: ReadonlyMap<number, number>;
  /** Hashes of both copies, per upper-listing id of each duplicate, when they were hashed. */
  readonly pairs: ReadonlyMap<number, PairComparison>;
  /** Why a duplicate could not be measured or hashed, per upper-listing id. */
  readonly duplicateErrors: ReadonlyMap<number, string>;
}
