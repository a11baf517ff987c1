/** Lists the top level of a layer (a store dir, or an OverlayFS upperdir) into packed keys and entry kinds. */
import fs from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { errnoCode, escapeName, messageOf } from '../errors/index.ts';
import { classifyOverlayEntry, OVERLAY_ENTRY_KINDS, type OverlayEntryKind } from '../mount/index.ts';
import { STORE_PATH_KEY_BYTES, writeStorePathKey } from '../store/index.ts';
import { AuditError } from './audit-error.ts';
import { KeyTable } from './key-table.ts';
import { StringPack } from './string-pack.ts';

/** Kind codes stored per entry: index into OVERLAY_ENTRY_KINDS plus one (0 = no entry). */
export const KIND_CODE = Object.freeze(Object.fromEntries(OVERLAY_ENTRY_KINDS.map((kind, i) => [kind, i + 1]))) as { readonly [K in OverlayEntryKind]: number };

/** The kind of the entry with key id `id`. */
export function kindAt(listing: LayerListing, id: number): OverlayEntryKind {
  return OVERLAY_ENTRY_KINDS[(listing.kinds[id] as number) - 1] ?? 'other';
}

/** The key ids of the listing's entries of kind `kind`, in order. */
export function idsOfKind(listing: LayerListing, kind: OverlayEntryKind): number[] {
  const ids: number[] = [];
  for (let id = 0; id < listing.keys.size; id++) if (listing.kinds[id] === KIND_CODE[kind]) ids.push(id);
  return ids;
}

/** An entry whose name is not a store path name (`.links`, `trash`, a temp dir): kept by name. */
export interface OtherEntry {
  /** The name's bytes as the file system holds them (they need not be UTF-8); show it with escapeName. */
  readonly name: Buffer;
  readonly kind: OverlayEntryKind;
}

/** A layer's top level: store-path-named entries by key, the rest by name. */
export interface LayerListing {
  readonly dir: string;
  /** Entries named like store paths; key id = entry number. */
  readonly keys: KeyTable;
  /**
   * KIND_CODE per key id, from the entry's type alone: a directory or file whose overlay xattrs could make it an
   * opaque directory or an xattr whiteout is `directory` or `file` until applyOverlayMarks read them.
   */
  readonly kinds: Uint8Array;
  /** Base names per key id, when asked for. */
  readonly names: StringPack | undefined;
  readonly others: readonly OtherEntry[];
}

export interface ListLayerOptions {
  /** Keep each entry's name (reports about entries of this layer need them). */
  readonly names?: boolean;
  /** Entries expected, to size the table (it grows past it). */
  readonly expected?: number;
  readonly signal?: AbortSignal;
  /** Entries listed so far; called every few ten thousand entries. */
  readonly onEntries?: (entries: number) => void;
}

/** Dirents read per getdents batch: large, so a million entries cost few system calls. */
const DIR_BUFFER = 4096;
const YIELD_EVERY = 16_384;

/** Which store-path-named entries a layer has, without their kinds: enough for the lower layer (no whiteouts there). */
export interface LayerKeySet {
  readonly dir: string;
  /** Store-path-named entries. */
  readonly size: number;
  has(key: Uint8Array, offset?: number): boolean;
}

/**
 * Calls `visit(name, kind)` for each entry of `dir`, read one at a time (never the whole listing as objects), typed
 * from readdir's d_type; character devices and entries of unknown type are lstat'ed (a device whiteout is a
 * character device 0/0). No xattrs are read. An entry that vanishes meanwhile is left out (an expected race on a
 * live layer). Names are read as latin1, one char per byte: store path names are ASCII, so they read as with UTF-8
 * (and as cheaply), while any other name keeps its bytes, UTF-8 or not (see OtherEntry).
 * @throws AuditError AUDIT_LAYER_UNREADABLE (evidence: dir, errno) when `dir` cannot be opened or read;
 *   rejects with `signal.reason` when aborted.
 */
async function forEachEntry(dir: string, options: ListLayerOptions, visit: (name: string, kind: OverlayEntryKind) => void): Promise<void> {
  options.signal?.throwIfAborted();
  let handle: fs.Dir;
  try {
    handle = fs.opendirSync(dir, { bufferSize: DIR_BUFFER, encoding: 'latin1' });
  } catch (cause) {
    throw unreadable(dir, cause);
  }
  let seen = 0;
  try {
    for (;;) {
      let entry: fs.Dirent | null;
      try {
        entry = handle.readSync();
      } catch (cause) {
        throw unreadable(dir, cause);
      }
      if (entry === null) break;
      if (++seen % YIELD_EVERY === 0) {
        options.onEntries?.(seen);
        await yieldToEventLoop();
        options.signal?.throwIfAborted();
      }
      const kind = kindOf(dir, entry);
      if (kind !== undefined) visit(entry.name, kind);
    }
  } finally {
    handle.closeSync();
  }
  options.onEntries?.(seen);
}

/**
 * forEachEntry, split by name: an entry named like a store path goes to `visit` with its packed key (a reused
 * buffer, valid during the call); the rest (Nix's `.links`, locks, strays with other names) are returned.
 */
async function forEachStorePathEntry(
  dir: string,
  options: ListLayerOptions,
  visit: (key: Buffer, name: string, kind: OverlayEntryKind) => void,
): Promise<OtherEntry[]> {
  const others: OtherEntry[] = [];
  const scratch = Buffer.alloc(STORE_PATH_KEY_BYTES);
  await forEachEntry(dir, options, (name, kind) => {
    if (writeStorePathKey(name, scratch, 0)) visit(scratch, name, kind);
    else others.push({ name: Buffer.from(name, 'latin1'), kind });
  });
  return others;
}

/**
 * Lists the top level of `dir` into packed keys and kinds (see forEachEntry for how it reads).
 * @throws AuditError AUDIT_LAYER_UNREADABLE; rejects with `signal.reason` when aborted.
 */
export async function listLayer(dir: string, options: ListLayerOptions = {}): Promise<LayerListing> {
  const keys = new KeyTable(options.expected);
  let kinds = new Uint8Array(Math.max(1024, options.expected ?? 0));
  const names = options.names === true ? new StringPack() : undefined;
  const others = await forEachStorePathEntry(dir, options, (key, name, kind) => {
    const id = keys.add(key, 0);
    if (id === kinds.length) {
      const grown = new Uint8Array(kinds.length * 2);
      grown.set(kinds);
      kinds = grown;
    }
    kinds[id] = KIND_CODE[kind];
    if (names !== undefined && id === names.length) names.push(name);
  });
  return { dir, keys: keys.trimmed(), kinds: kinds.length === keys.size ? kinds : kinds.slice(0, keys.size), names: names?.trimmed(), others };
}

/** A layer's entries recorded against a DB index: a byte per DB row, and a table of the entries the DB lacks. */
export interface EntriesAgainstIndex {
  readonly dir: string;
  /** Per row of the index: 1 when the layer has an entry of that name. */
  readonly inIndex: Uint8Array;
  /** Store-path-named entries the index does not register. */
  readonly extra: KeyTable;
  readonly others: readonly OtherEntry[];
}

/**
 * Lists `dir` against `keys` (a DB index's keys, `count` rows): far less memory than a listing of its own when the
 * layer holds about what the DB registers, as a lower store does. Same reading and errors as listLayer.
 */
export async function listLayerAgainst(dir: string, keys: KeyTable, count: number, options: ListLayerOptions = {}): Promise<EntriesAgainstIndex> {
  const inIndex = new Uint8Array(count);
  const extra = new KeyTable();
  const others = await forEachStorePathEntry(dir, options, (key) => {
    const row = keys.find(key, 0);
    if (row >= 0) inIndex[row] = 1;
    else extra.add(key, 0);
  });
  return { dir, inIndex, extra: extra.trimmed(), others };
}

/** EntriesAgainstIndex as a LayerKeySet (pure). */
export function keySetAgainst(entries: EntriesAgainstIndex, keys: KeyTable): LayerKeySet {
  let size = entries.extra.size;
  for (const flag of entries.inIndex) size += flag;
  return {
    dir: entries.dir,
    size,
    has: (key, offset = 0) => {
      const row = keys.find(key, offset);
      return row >= 0 ? entries.inIndex[row] === 1 : entries.extra.find(key, offset) >= 0;
    },
  };
}

/** The kind of an entry without its xattrs: from d_type, else (a character device, or no d_type) from lstat; undefined when it vanished. */
function kindOf(dir: string, entry: fs.Dirent): OverlayEntryKind | undefined {
  if (entry.isDirectory() || entry.isFile() || entry.isSymbolicLink() || entry.isFIFO() || entry.isSocket() || entry.isBlockDevice())
    return classifyOverlayEntry(entry);
  const st = fs.lstatSync(entryPath(dir, entry.name), { throwIfNoEntry: false });
  return st === undefined ? undefined : classifyOverlayEntry(st);
}

/**
 * `dir/name` as findings show it (escapeName), for an entry name as a listing holds it: a Buffer (OtherEntry), or
 * a latin1 string (one char per byte, as names are read). Pure.
 */
export function shownEntryPath(dir: string, name: string | Buffer): string {
  return escapeName(Buffer.concat([Buffer.from(`${dir}/`), typeof name === 'string' ? Buffer.from(name, 'latin1') : name]));
}

/** The path of the entry `name` (read as latin1) of `dir`: a string for an ASCII name, else the bytes. */
function entryPath(dir: string, name: string): string | Buffer {
  return /^[\x00-\x7f]*$/.test(name) ? `${dir}/${name}` : Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name, 'latin1')]);
}

function unreadable(dir: string, cause: unknown): AuditError {
  const errno = errnoCode(cause);
  return new AuditError('AUDIT_LAYER_UNREADABLE', `cannot read the layer directory ${dir} (${errno ?? messageOf(cause)})`, {
    evidence: { dir, errno },
    hint:
      errno === 'ENOENT'
        ? 'check the store settings: upper-layer, and the lower store (root, real)'
        : 'run overlay-warden as root, or as a user who can read both layers',
    cause,
  });
}
