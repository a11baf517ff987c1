/** What is mounted at the merged store dir, as plain data, and how two such views differ. Pure. */
import type { MountinfoEntry, MountTable } from '../mount/index.ts';

/**
 * What happened at the merged store dir's mount point: `mounted`, `unmounted`, `remounted` (another overlay mount
 * replaced it), `options-changed` (same mount, other options), `stacked` (a mount now covers the overlay),
 * `unstacked` (nothing covers it any more).
 */
export type MountChangeKind = 'mounted' | 'unmounted' | 'remounted' | 'options-changed' | 'stacked' | 'unstacked';

/** One mount, as evidence: the fields that tell mounts apart, and the mountinfo line. */
export interface MountSnapshot {
  readonly mountId: number;
  readonly parentId: number;
  readonly fsType: string;
  readonly source: string;
  readonly mountOptions: readonly string[];
  readonly superOptions: readonly string[];
  readonly line: string;
}

/**
 * The overlay mount at the merged store dir and what is stacked on it. `overlay` is the topmost overlay in the
 * visible stack at that point (null when none is reachable: unmounted, or hidden by a mount over a parent dir);
 * `above` are the mounts stacked on it, lowest first (what a path lookup really reaches is the last one).
 */
export interface MountView {
  readonly overlay: MountSnapshot | null;
  readonly above: readonly MountSnapshot[];
}

/** A change between two views. */
export interface MountChange {
  readonly what: MountChangeKind;
  readonly before: MountView;
  readonly after: MountView;
}

/** A plain-data copy of `entry`. */
export function snapshotOf(entry: MountinfoEntry): MountSnapshot {
  return {
    mountId: entry.mountId,
    parentId: entry.parentId,
    fsType: entry.fsType,
    source: entry.source,
    mountOptions: [...entry.mountOptions],
    superOptions: [...entry.superOptions],
    line: entry.line,
  };
}

/**
 * The view at `mergedDir` in `table`. @throws MountPathError when `mergedDir` is not absolute.
 */
export function mountViewOf(table: MountTable, mergedDir: string): MountView {
  const stack = table.stackAt(mergedDir);
  let top = -1;
  for (let i = stack.length - 1; i >= 0; i--) {
    if ((stack[i] as MountinfoEntry).fsType === 'overlay') {
      top = i;
      break;
    }
  }
  if (top < 0) return { overlay: null, above: [] };
  return { overlay: snapshotOf(stack[top] as MountinfoEntry), above: stack.slice(top + 1).map(snapshotOf) };
}

/**
 * The changes from `before` to `after`, at most one about the overlay itself (`mounted`, `unmounted`, `remounted`
 * or `options-changed`, in that precedence) and one about what covers it (`stacked` when the set of mounts above
 * changed and some remain, `unstacked` when none remain). Empty when nothing that matters changed (propagation
 * tags are ignored).
 */
export function diffMountViews(before: MountView, after: MountView): MountChange[] {
  const changes: MountChange[] = [];
  const add = (what: MountChangeKind): void => void changes.push({ what, before, after });
  const b = before.overlay;
  const a = after.overlay;
  if (b !== null && a === null) add('unmounted');
  else if (b === null && a !== null) add('mounted');
  else if (b !== null && a !== null) {
    if (b.mountId !== a.mountId) add('remounted');
    else if (!sameList(b.mountOptions, a.mountOptions) || !sameList(b.superOptions, a.superOptions)) add('options-changed');
  }
  if (
    a !== null &&
    !sameList(
      before.above.map((m) => String(m.mountId)),
      after.above.map((m) => String(m.mountId)),
    )
  )
    add(after.above.length > 0 ? 'stacked' : 'unstacked');
  return changes;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
