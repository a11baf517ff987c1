/** What was added to and removed from a set of store path names: one merge pass over two sorted key buffers. */
import { STORE_PATH_KEY_BYTES, compareStorePathKeys } from '../store/index.ts';
import type { EntrySet } from './entry-set.ts';

/** Positions of the differing entries: `added` index `after`, `removed` index `before` (both in key order). */
interface EntryDiffIndices {
  readonly added: Uint32Array;
  readonly removed: Uint32Array;
}

/** Names that differ, each list in key order (not alphabetical). */
export interface EntryDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Positions of the entries only in `after` (added) and only in `before` (removed). Pure; O(n + m), no strings. */
function diffEntryIndices(before: EntrySet, after: EntrySet): EntryDiffIndices {
  const added: number[] = [];
  const removed: number[] = [];
  let a = 0;
  let b = 0;
  while (a < before.count && b < after.count) {
    const c = compareStorePathKeys(before.keys, a * STORE_PATH_KEY_BYTES, after.keys, b * STORE_PATH_KEY_BYTES);
    if (c === 0) {
      a++;
      b++;
    } else if (c < 0) removed.push(a++);
    else added.push(b++);
  }
  while (a < before.count) removed.push(a++);
  while (b < after.count) added.push(b++);
  return { added: Uint32Array.from(added), removed: Uint32Array.from(removed) };
}

/** The names only in `after` (added) and only in `before` (removed). Pure; strings are made for differences only. */
export function diffEntrySets(before: EntrySet, after: EntrySet): EntryDiff {
  const { added, removed } = diffEntryIndices(before, after);
  return { added: Array.from(added, (i) => after.nameAt(i)), removed: Array.from(removed, (i) => before.nameAt(i)) };
}
