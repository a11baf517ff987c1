/** AuditFacts from literal lists (names, hashes, references, layer entries), so the deciders can be tested without I/O. */
import type { AuditFacts, PairComparison } from '../../../agent/audit/audit-facts.ts';
import { buildCsr, EdgeList } from '../../../agent/audit/csr.ts';
import type { DbIndex } from '../../../agent/audit/db-index.ts';
import { KeyTable } from '../../../agent/audit/key-table.ts';
import { KIND_CODE, type LayerKeySet, type LayerListing, type OtherEntry } from '../../../agent/audit/layer-listing.ts';
import type { OverlayEntryKind } from '../../../agent/mount/overlay-entry.ts';
import type { JoinedReferences, RefGraph } from '../../../agent/audit/ref-graph.ts';
import { STORE_PATH_KEY_BYTES, writeStorePathKey } from '../../../agent/store/store-path-key.ts';
import { StringPack } from '../../../agent/audit/string-pack.ts';

export const STORE = '/nix/store';

/** A valid base name for a short label: a deterministic 32-char hash part from the label, then `-label`. */
export function nameOf(label: string): string {
  const alphabet = '0123456789abcdfghijklmnpqrsvwxyz';
  let h = 2166136261;
  let hash = '';
  for (let i = 0; i < 32; i++) {
    for (const c of `${label}/${i}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    hash += alphabet[(h >>> 0) % 32];
  }
  return `${hash}-${label}`;
}

export function pathOf(label: string): string {
  return `${STORE}/${nameOf(label)}`;
}

/** One registration: a label, its narHash byte (the 32-byte hash is that byte repeated), its references (labels), its narSize. */
export interface LiteralRow {
  readonly label: string;
  readonly hash?: number;
  readonly refs?: readonly string[];
  /** When any row of an index has one, the index keeps narSizes (0 for the rows without). */
  readonly size?: number;
}

export interface LiteralStore {
  readonly upperDb: readonly LiteralRow[];
  readonly lowerDb: readonly LiteralRow[];
  /** Upper-layer entries by label (store-path named) or raw name (others, prefixed with `!`), with their xattrs applied. */
  readonly upperLayer: Readonly<Record<string, OverlayEntryKind>>;
  readonly lowerLayer: readonly string[];
  /** The overlay xattrs could not be read (getfattr unavailable): then no kind is opaque or an xattr whiteout. */
  readonly xattrsUnreadable?: boolean;
  readonly duplicateBytes?: Readonly<Record<string, number>>;
  readonly pairs?: Readonly<Record<string, PairComparison>>;
}

/** The packed store key of a label's base name. */
export function keyOf(label: string): Buffer {
  const out = Buffer.alloc(STORE_PATH_KEY_BYTES);
  if (!writeStorePathKey(nameOf(label), out, 0)) throw new Error(`bad label ${label}`);
  return out;
}

/** A DB index of `rows` in row order, with names and narHashes; joined to `join` when given. */
export function literalDbIndex(rows: readonly LiteralRow[], file: string, join?: DbIndex): DbIndex {
  const keys = new KeyTable();
  const names = new StringPack();
  const narHashes = Buffer.alloc(rows.length * 32);
  const joinIndex = new Int32Array(rows.length).fill(-1);
  const present = new Uint8Array(join?.count ?? 0);
  const differing = new Set<number>();
  rows.forEach((row, i) => {
    keys.add(keyOf(row.label));
    names.push(nameOf(row.label));
    narHashes.fill(row.hash ?? 1, i * 32, i * 32 + 32);
    if (join !== undefined) {
      const other = join.keys.find(keyOf(row.label));
      if (other >= 0) {
        joinIndex[i] = other;
        present[other] = 1;
        const mine = narHashes.subarray(i * 32, i * 32 + 32);
        if (!mine.equals(join.narHashes!.subarray(other * 32, other * 32 + 32))) differing.add(other);
      }
    }
  });
  return {
    file,
    storeDir: STORE,
    count: rows.length,
    keys,
    rowIds: Uint32Array.from(rows, (_, i) => i + 1),
    names,
    narHashes,
    narSizes: rows.some((row) => row.size !== undefined) ? Float64Array.from(rows, (row) => row.size ?? 0) : undefined,
    narFingerprints: undefined,
    joined: join === undefined ? undefined : { joinIndex, present, differing },
    skipped: [],
    skippedCount: 0,
  };
}

function refGraph(rows: readonly LiteralRow[], index: DbIndex): RefGraph {
  const edges = new EdgeList();
  const selfReferences = new Uint8Array(rows.length);
  rows.forEach((row, i) => {
    for (const ref of row.refs ?? []) {
      if (ref === row.label) selfReferences[i] = 1;
      else edges.add(i, index.keys.find(keyOf(ref)));
    }
  });
  return { references: buildCsr(edges.pairs(), rows.length), referrers: buildCsr(edges.pairs(), rows.length, true), selfReferences, unknownReferences: [] };
}

/** A layer's listing of `entries` (labels, or raw names prefixed with `!`), in order, with their xattrs applied. */
export function literalListing(dir: string, entries: ReadonlyArray<readonly [string, OverlayEntryKind]>, withNames: boolean): LayerListing {
  const keys = new KeyTable();
  const kinds: number[] = [];
  const names = new StringPack();
  const others: OtherEntry[] = [];
  for (const [label, kind] of entries) {
    if (label.startsWith('!')) {
      others.push({ name: Buffer.from(label.slice(1)), kind });
      continue;
    }
    keys.add(keyOf(label));
    kinds.push(KIND_CODE[kind]);
    names.push(nameOf(label));
  }
  return { dir, keys, kinds: Uint8Array.from(kinds), names: withNames ? names : undefined, others };
}

/** A listing as the set of keys it holds (as a lower layer's entries are read). */
export function literalKeySet(listing: LayerListing): LayerKeySet {
  return { dir: listing.dir, size: listing.keys.size, has: (key, offset = 0) => listing.keys.find(key, offset) >= 0 };
}

/** Builds the facts the deciders read from the literal description. */
export function literalFacts(store: LiteralStore): AuditFacts {
  const upperDb = literalDbIndex(store.upperDb, '/state/db/db.sqlite');
  const lowerDb = literalDbIndex(store.lowerDb, '/lower/nix/var/nix/db/db.sqlite', upperDb);
  const upperListing = literalListing('/upper', Object.entries(store.upperLayer), true);
  const lowerEntries = literalKeySet(
    literalListing(
      '/lower/nix/store',
      store.lowerLayer.map((label) => [label, 'directory'] as const),
      false,
    ),
  );
  const xattrs: AuditFacts['xattrs'] = store.xattrsUnreadable === true ? { available: false, reason: 'getfattr is not installed' } : { available: true };
  const byId = <T>(record: Readonly<Record<string, T>> | undefined): Map<number, T> =>
    new Map(Object.entries(record ?? {}).map(([label, value]) => [upperListing.keys.find(keyOf(label)), value]));
  const lowerEdges = new EdgeList();
  const lowerRefsPerUpper = new Uint32Array(upperDb.count);
  store.lowerDb.forEach((row, i) => {
    const upperRow = lowerDb.joined!.joinIndex[i]!;
    if (upperRow < 0) return;
    for (const ref of row.refs ?? []) lowerEdges.add(upperRow, lowerDb.keys.find(keyOf(ref)));
  });
  const lowerReferences: JoinedReferences = { references: buildCsr(lowerEdges.pairs(), upperDb.count), unknownCount: lowerRefsPerUpper };
  return {
    storeDir: STORE,
    upperLayer: '/upper',
    lowerStoreDir: '/lower/nix/store',
    upperDb,
    upperPathOf: (row) => `${STORE}/${upperDb.names!.get(row)}`,
    upperGraph: refGraph(store.upperDb, upperDb),
    lowerDb,
    lowerReferences,
    upperListing,
    lowerEntries,
    xattrs,
    duplicateBytes: byId(store.duplicateBytes),
    pairs: byId(store.pairs),
    duplicateErrors: new Map(),
  };
}
