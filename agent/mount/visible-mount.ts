/** Which mount is really visible at a path: follows parent ids through stacks, as path lookup does. */
import { canonAbsolutePath } from './canon-path.ts';
import { MountPathError } from './mount-errors.ts';
import type { MountinfoEntry } from './mountinfo.ts';

/**
 * An index of a parsed mount table, built once in O(n), answering lookups in O(depth of the path).
 *
 * Model: a mount is attached at a mount point inside its parent mount. Looking up `/a/b` starts at the
 * namespace's root mount and, for each prefix (`/`, `/a`, `/a/b`), moves to the mount attached at that prefix
 * in the current mount, repeatedly, because a mount stacked at the same point is a child of the one below it.
 * So a mount is hidden when another is stacked on it, or when a mount covers one of its ancestors' paths.
 *
 * Partial tables (a saved excerpt) lack some parents. A mount whose parent is absent from the table (or is
 * itself) is an orphan; where no attached child continues the walk, an orphan at that exact point does, so an
 * excerpt holding only the overlay line still answers for the overlay's mount point. In a whole table only the
 * root is an orphan. Ties (two candidates at one point with the same parent) go to the later line.
 */
export class MountTable {
  readonly entries: readonly MountinfoEntry[];
  readonly #byId = new Map<number, MountinfoEntry>();
  /** parent id → mount point → the last entry attached there. */
  readonly #children = new Map<number, Map<string, MountinfoEntry>>();
  /** mount point → the last orphan there. */
  readonly #orphans = new Map<string, MountinfoEntry>();
  /** mount point → every entry there, visible or not, in table order; built on first use. */
  #atPoint: Map<string, MountinfoEntry[]> | undefined;

  constructor(entries: readonly MountinfoEntry[]) {
    this.entries = entries;
    for (const e of entries) this.#byId.set(e.mountId, e);
    for (const e of entries) {
      if (e.parentId === e.mountId || !this.#byId.has(e.parentId)) {
        this.#orphans.set(e.mountPoint, e);
        continue;
      }
      let points = this.#children.get(e.parentId);
      if (points === undefined) this.#children.set(e.parentId, (points = new Map()));
      points.set(e.mountPoint, e);
    }
  }

  /** The entry with this mount id (the later line if the table repeats one). */
  byId(mountId: number): MountinfoEntry | undefined {
    return this.#byId.get(mountId);
  }

  /** Every entry whose mount point is exactly `path`, hidden ones included, in table order. */
  entriesAt(path: string): readonly MountinfoEntry[] {
    if (this.#atPoint === undefined) {
      this.#atPoint = new Map();
      for (const e of this.entries) {
        const list = this.#atPoint.get(e.mountPoint);
        if (list === undefined) this.#atPoint.set(e.mountPoint, [e]);
        else list.push(e);
      }
    }
    return this.#atPoint.get(normalizeMountPath(path)) ?? [];
  }

  /**
   * The mount really visible at exactly `path`: the top of the stack there, reached through visible parents;
   * undefined when `path` is not a visible mount point (nothing mounted there, or what is mounted is hidden).
   * @throws MountPathError when `path` is not absolute.
   */
  findVisibleMount(path: string): MountinfoEntry | undefined {
    const normal = normalizeMountPath(path);
    const found = this.#walk(normal).mount;
    return found?.mountPoint === normal ? found : undefined;
  }

  /**
   * The visible mount whose filesystem holds `path` (the deepest visible mount point that is a prefix of it):
   * "which filesystem is this directory on". Undefined only when the table has no mount above `path` at all.
   * @throws MountPathError when `path` is not absolute.
   */
  findMountContaining(path: string): MountinfoEntry | undefined {
    return this.#walk(normalizeMountPath(path)).mount;
  }

  /**
   * The visible stack at exactly `path`, bottom first: the mount attached in the visible parent, then each mount
   * stacked on it; the last one is `findVisibleMount(path)`. Empty when `path` is not a visible mount point.
   * @throws MountPathError when `path` is not absolute.
   */
  stackAt(path: string): readonly MountinfoEntry[] {
    const normal = normalizeMountPath(path);
    const { mount, stack } = this.#walk(normal);
    return mount?.mountPoint === normal ? stack : [];
  }

  /** The mounts stacked on `entry` at its own mount point, lowest first; empty when nothing covers it there. */
  mountsStackedOn(entry: MountinfoEntry): readonly MountinfoEntry[] {
    const above: MountinfoEntry[] = [];
    const seen = new Set<number>([entry.mountId]);
    let current = entry;
    for (;;) {
      const next = this.#children.get(current.mountId)?.get(entry.mountPoint);
      if (next === undefined || seen.has(next.mountId)) return above;
      seen.add(next.mountId);
      above.push(next);
      current = next;
    }
  }

  /** True when `entry` is the mount a lookup of its own mount point reaches. */
  isVisible(entry: MountinfoEntry): boolean {
    return this.findVisibleMount(entry.mountPoint) === entry;
  }

  /** The path walk: the mount reached, and the stack passed through at the last prefix that had one. */
  #walk(path: string): { mount: MountinfoEntry | undefined; stack: MountinfoEntry[] } {
    let mount: MountinfoEntry | undefined;
    let stack: MountinfoEntry[] = [];
    for (const prefix of prefixesOf(path)) {
      let next = mount === undefined ? undefined : this.#children.get(mount.mountId)?.get(prefix);
      next ??= this.#orphans.get(prefix);
      if (next === undefined) continue;
      stack = [];
      const seen = new Set<number>();
      while (next !== undefined && !seen.has(next.mountId)) {
        seen.add(next.mountId);
        stack.push(next);
        mount = next;
        next = this.#children.get(next.mountId)?.get(prefix);
      }
    }
    return { mount, stack };
  }
}

/** `/a/b/c` → `/`, `/a`, `/a/b`, `/a/b/c`. */
function* prefixesOf(path: string): Generator<string> {
  yield '/';
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path[i] === '/') yield path.slice(0, i);
  }
}

/**
 * Lexical normal form of an absolute path, as the kernel prints mount points (Nix's `canonPath`: no `.`, no
 * `//`, no trailing `/`). `..` is folded lexically, which is only right for paths without symlinks:
 * canonicalise (realpath) first.
 * @throws MountPathError when `path` is not absolute.
 */
export function normalizeMountPath(path: string): string {
  const canon = canonAbsolutePath(path);
  if (canon === undefined) throw new MountPathError(path);
  return canon;
}

type Mounts = MountTable | readonly MountinfoEntry[];
const tables = new WeakMap<readonly MountinfoEntry[], MountTable>();

/** The table for `mounts`, built once per array (kept while the array lives). */
export function mountTableOf(mounts: Mounts): MountTable {
  if (mounts instanceof MountTable) return mounts;
  let table = tables.get(mounts);
  if (table === undefined) tables.set(mounts, (table = new MountTable(mounts)));
  return table;
}

/** The mount really visible at exactly `path` (see `MountTable.findVisibleMount`). @throws MountPathError */
export function findVisibleMount(mounts: Mounts, path: string): MountinfoEntry | undefined {
  return mountTableOf(mounts).findVisibleMount(path);
}

/** The visible mount whose filesystem holds `path` (see `MountTable.findMountContaining`). @throws MountPathError */
export function findMountContaining(mounts: Mounts, path: string): MountinfoEntry | undefined {
  return mountTableOf(mounts).findMountContaining(path);
}

/** The mounts stacked on `entry` at its mount point, lowest first (see `MountTable.mountsStackedOn`). */
export function mountsStackedOn(mounts: Mounts, entry: MountinfoEntry): readonly MountinfoEntry[] {
  return mountTableOf(mounts).mountsStackedOn(entry);
}
