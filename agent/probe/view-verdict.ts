/** Deciding whether the merged view of one store path is fresh, from lstat results of the merged dir and both layers. Pure. */

/** One lstat result, reduced to what the verdict compares. */
export type ObjectState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'whiteout' }
  | { readonly kind: 'error'; readonly errno: string }
  | {
      readonly kind: 'present';
      readonly type: 'file' | 'directory' | 'symlink' | 'other';
      /** Permission and special bits (mode & 0o7777). */
      readonly perm: number;
      readonly size: number;
      readonly mtimeNs: string;
      readonly nlink: number;
    };

/** The three lstat results for one top-level name. */
export interface PathView {
  readonly name: string;
  readonly merged: ObjectState;
  readonly upper: ObjectState;
  readonly lower: ObjectState;
}

/** Which layer should serve the name: the upper's object, else (no whiteout) the lower's, else nothing. */
export type ExpectedSource = 'upper' | 'lower' | 'none';

/**
 * Why a view is stale:
 * - `estale`: the merged view answered ESTALE (kernels before 6.19 in Nix's stale-file-handle test);
 * - `deleted-object-served`: the merged view serves an inode with no links left (deleted in its layer; what kernel
 *   6.18 does after a direct upper deletion, or a lower deletion, under a cached dentry);
 * - `served-but-absent-from-layers`: the merged view serves a name neither layer holds;
 * - `whiteout-ignored`: the merged view serves a name the upper layer whites out;
 * - `lower-path-invisible`: the lower holds it (no whiteout) but the merged view says ENOENT (a negative dentry
 *   cached before the lower grew);
 * - `upper-path-invisible`: the upper holds it but the merged view says ENOENT;
 * - `attributes-differ`: type, permissions, size or mtime differ from the layer that should serve it.
 */
export type StaleReason =
  | 'estale'
  | 'deleted-object-served'
  | 'served-but-absent-from-layers'
  | 'whiteout-ignored'
  | 'lower-path-invisible'
  | 'upper-path-invisible'
  | 'attributes-differ';

export type Verdict =
  | { readonly state: 'fresh'; readonly expected: ExpectedSource }
  | { readonly state: 'stale'; readonly expected: ExpectedSource; readonly reason: StaleReason; readonly differences?: readonly string[] }
  | { readonly state: 'inconclusive'; readonly reason: 'stat-failed' | 'changed-during-probe'; readonly errno?: string };

/** Which layer should serve the name, given the two layer states (errors: undefined). */
export function expectedSource(upper: ObjectState, lower: ObjectState): ExpectedSource | undefined {
  if (upper.kind === 'error') return undefined;
  if (upper.kind === 'present') return 'upper';
  if (upper.kind === 'whiteout') return 'none';
  if (lower.kind === 'error') return undefined;
  return lower.kind === 'present' ? 'lower' : 'none';
}

/**
 * The verdict on one name. OverlayFS reports, for a merged object, the type, permissions, size and mtime of the
 * real inode it serves (upper if the upper layer has it, else lower); it rewrites st_dev and st_ino (and st_nlink
 * to 1 for directories merged from both layers), so inode numbers are not compared. Observed on kernel 6.18 after a
 * direct deletion in the upper layer: the cached merged dentry still serves the deleted inode, with nlink 0 for
 * files and upper-only directories, and size 0 (nlink 1) for a directory merged from both layers; a lower path
 * added after a failed lookup stays ENOENT until the dentry cache is dropped or the overlay remounted.
 */
export function judgeView(view: PathView): Verdict {
  const { merged, upper, lower } = view;
  if (merged.kind === 'error' && merged.errno === 'ESTALE') return { state: 'stale', expected: expectedSource(upper, lower) ?? 'none', reason: 'estale' };
  for (const s of [merged, upper, lower]) if (s.kind === 'error') return { state: 'inconclusive', reason: 'stat-failed', errno: s.errno };
  const expected = expectedSource(upper, lower) as ExpectedSource;
  if (merged.kind === 'present' && merged.nlink === 0) return { state: 'stale', expected, reason: 'deleted-object-served' };
  if (expected === 'none') {
    if (merged.kind !== 'present') return { state: 'fresh', expected };
    return { state: 'stale', expected, reason: upper.kind === 'whiteout' ? 'whiteout-ignored' : 'served-but-absent-from-layers' };
  }
  if (merged.kind !== 'present') return { state: 'stale', expected, reason: expected === 'lower' ? 'lower-path-invisible' : 'upper-path-invisible' };
  const source = (expected === 'upper' ? upper : lower) as Extract<ObjectState, { kind: 'present' }>;
  const differences: string[] = [];
  if (merged.type !== source.type) differences.push(`type ${merged.type} ≠ ${source.type}`);
  if (merged.perm !== source.perm) differences.push(`mode ${merged.perm.toString(8)} ≠ ${source.perm.toString(8)}`);
  if (merged.size !== source.size) differences.push(`size ${merged.size} ≠ ${source.size}`);
  if (merged.mtimeNs !== source.mtimeNs) differences.push(`mtime ${merged.mtimeNs} ≠ ${source.mtimeNs} ns`);
  return differences.length === 0 ? { state: 'fresh', expected } : { state: 'stale', expected, reason: 'attributes-differ', differences };
}

/** True when two layer states are the same (to tell whether a layer changed while the merged view was stat-ed). */
export function sameState(a: ObjectState, b: ObjectState): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'error') return a.errno === (b as typeof a).errno;
  if (a.kind !== 'present') return true;
  const c = b as typeof a;
  return a.type === c.type && a.perm === c.perm && a.size === c.size && a.mtimeNs === c.mtimeNs && a.nlink === c.nlink;
}
