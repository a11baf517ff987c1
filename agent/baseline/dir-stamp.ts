/** A directory's own stat fields that change when an entry is added, removed or renamed: "did this listing go stale?" */
import fs from 'node:fs';

/**
 * Taken just before a listing, the stamp tells later, for the cost of one stat, whether any entry was added,
 * removed or renamed since: each of those updates the directory's mtime and ctime (and often its size and link
 * count). Nanosecond times are decimal strings; `readAtNs` is the wall clock when the stamp was read.
 */
export interface DirStamp {
  readonly dev: string;
  readonly ino: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly size: number;
  readonly nlink: number;
  readonly readAtNs: string;
}

/**
 * A directory's last change must be this much older than the stamp for the stamp to vouch for it: file systems
 * stamp times from a coarse clock (one jiffy, 1–10 ms; Linux 6.13+ refines it once a time was read), so a change
 * in the same tick right after the stamp could leave every field equal.
 */
const SETTLED_NS = 1_000_000_000n;

/** The stamp of `dir` now. Throws the stat error. */
export function readDirStamp(dir: string): DirStamp {
  const readAtNs = BigInt(Date.now()) * 1_000_000n;
  const s = fs.statSync(dir, { bigint: true });
  return {
    dev: String(s.dev),
    ino: String(s.ino),
    mtimeNs: String(s.mtimeNs),
    ctimeNs: String(s.ctimeNs),
    size: Number(s.size),
    nlink: Number(s.nlink),
    readAtNs: String(readAtNs),
  };
}

/**
 * True when the two stamps show the same directory with no entry change in between. Pure. `restart` ignores the
 * device number (a reboot may renumber devices, e.g. a Qubes AppVM's view of its template); `live` compares it.
 */
export function dirStampsEqual(a: DirStamp, b: DirStamp, scope: 'live' | 'restart'): boolean {
  return (
    (scope === 'restart' || a.dev === b.dev) &&
    a.ino === b.ino &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.size === b.size &&
    a.nlink === b.nlink
  );
}

/**
 * True when `now` proves that no entry changed since `saved` was taken: the stamps are equal and, when `saved` was
 * read, the directory's last change was already a second old (see SETTLED_NS). Pure. False means "list again".
 */
export function dirUnchangedSince(saved: DirStamp, now: DirStamp, scope: 'live' | 'restart'): boolean {
  return dirStampsEqual(saved, now, scope) && BigInt(saved.readAtNs) - BigInt(saved.mtimeNs) >= SETTLED_NS;
}

/** True when `value` has the shape of a DirStamp (reading it back from a state file). */
export function isDirStamp(value: unknown): value is DirStamp {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    ['dev', 'ino', 'mtimeNs', 'ctimeNs', 'readAtNs'].every((k) => typeof v[k] === 'string' && /^\d+$/.test(v[k] as string)) &&
    typeof v['size'] === 'number' &&
    typeof v['nlink'] === 'number'
  );
}
