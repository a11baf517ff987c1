/** Deciding what a batch of top-level names means for each layer, from what was known and what is there now. Pure. */
import type { LowerPathChange } from './drift-events.ts';

/** One lower-store name in a batch: known before (in the index), present now (lstat), and the event kinds seen. */
export interface LowerObservation {
  readonly name: string;
  readonly before: boolean;
  readonly now: boolean;
  /** It is a directory now (for a directory, Node reports attribute changes as `rename` too). */
  readonly directory: boolean;
  readonly rename: boolean;
  readonly change: boolean;
}

export interface LowerChanges {
  readonly grew: readonly string[];
  readonly shrank: readonly string[];
  readonly modified: readonly { readonly name: string; readonly detail: LowerPathChange }[];
}

/**
 * Classifies lower-store observations: absent → present is growth, present → absent shrinkage, absent → absent
 * (created and deleted within one batch) nothing. Present → present is a modification: for a file, `replaced` when a
 * rename was seen (deleted and recreated, or renamed over), else `changed` (attributes or contents); for a directory
 * `changed-or-replaced`, because inotify flags events on directories with IN_ISDIR, which libuv reports as a rename
 * whatever happened (measured: a chmod of a directory arrives as `rename`). Outputs are sorted by name.
 */
export function classifyLowerChanges(observations: Iterable<LowerObservation>): LowerChanges {
  const grew: string[] = [];
  const shrank: string[] = [];
  const modified: { name: string; detail: LowerPathChange }[] = [];
  for (const o of observations) {
    if (!o.before && o.now) grew.push(o.name);
    else if (o.before && !o.now) shrank.push(o.name);
    else if (o.before && o.now && (o.rename || o.change))
      modified.push({ name: o.name, detail: o.directory ? 'changed-or-replaced' : o.rename ? 'replaced' : 'changed' });
  }
  grew.sort();
  shrank.sort();
  modified.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { grew, shrank, modified };
}

/** What a top-level upper-layer name is: nothing (or a Nix lock file), a store object, or a whiteout. */
export type UpperState = 'absent' | 'object' | 'whiteout';

export interface UpperObservation {
  readonly name: string;
  readonly before: UpperState;
  readonly now: UpperState;
  /** The lower store dir holds the name now. */
  readonly inLower: boolean;
}

export type UpperChange =
  | { readonly kind: 'added'; readonly name: string }
  | { readonly kind: 'deleted'; readonly name: string; readonly entry: 'object' | 'whiteout'; readonly alsoInLower: boolean }
  | { readonly kind: 'whiteout-added'; readonly name: string; readonly masksLower: boolean };

/**
 * Classifies upper-layer observations. An object or whiteout that vanished was deleted directly in the layer
 * (OverlayFS itself turns a deletion through the merged view of a path the lower has into a whiteout, and removes
 * upper-only paths outright: then `alsoInLower` is false and nothing is stale). An object that became a whiteout, or
 * a new whiteout, was deleted through the overlay. Anything that became an object was added. Sorted by name.
 */
export function classifyUpperChanges(observations: Iterable<UpperObservation>): UpperChange[] {
  const changes: UpperChange[] = [];
  for (const o of observations) {
    if (o.before === o.now) continue;
    if (o.now === 'object') changes.push({ kind: 'added', name: o.name });
    else if (o.now === 'whiteout') changes.push({ kind: 'whiteout-added', name: o.name, masksLower: o.inLower });
    else changes.push({ kind: 'deleted', name: o.name, entry: o.before === 'whiteout' ? 'whiteout' : 'object', alsoInLower: o.inLower });
  }
  return changes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
