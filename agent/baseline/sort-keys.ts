/** Sorting fixed-size entry keys: a counting pass on the first two bytes, then small sorts inside each bucket. */
import { STORE_PATH_KEY_BYTES, compareStorePathKeys } from '../store/index.ts';

/** Buckets larger than this are sorted with the built-in sort instead of insertion sort. */
const INSERTION_SORT_MAX = 32;

/**
 * The order of the `count` keys in `keys`: a permutation `order` such that the key at `order[i] * STORE_PATH_KEY_BYTES`
 * is ascending (bytewise) in `i`; ties keep their input order. Hash parts are uniformly distributed, so the 65,536
 * buckets of the first two bytes hold ~15 keys each at a million entries: one counting pass and tiny insertion
 * sorts (≈0.1 s per million). Skewed input (shared prefixes) falls back to the built-in sort per bucket.
 */
export function sortKeyOrder(keys: Uint8Array, count: number): Uint32Array {
  const starts = new Uint32Array(65_537);
  for (let i = 0; i < count; i++) {
    const at = i * STORE_PATH_KEY_BYTES;
    (starts[(((keys[at] as number) << 8) | (keys[at + 1] as number)) + 1] as number)++;
  }
  for (let b = 1; b < starts.length; b++) starts[b] = (starts[b] as number) + (starts[b - 1] as number);
  const next = starts.slice(0, 65_536);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * STORE_PATH_KEY_BYTES;
    const bucket = ((keys[at] as number) << 8) | (keys[at + 1] as number);
    order[(next[bucket] as number)++] = i;
  }
  const byKey = (x: number, y: number): number => compareStorePathKeys(keys, x * STORE_PATH_KEY_BYTES, keys, y * STORE_PATH_KEY_BYTES) || x - y;
  for (let b = 0; b < 65_536; b++) {
    const lo = starts[b] as number;
    const hi = starts[b + 1] as number;
    if (hi - lo < 2) continue;
    if (hi - lo > INSERTION_SORT_MAX) {
      order.subarray(lo, hi).sort(byKey);
      continue;
    }
    for (let i = lo + 1; i < hi; i++) {
      const item = order[i] as number;
      let j = i - 1;
      while (j >= lo && byKey(order[j] as number, item) > 0) {
        order[j + 1] = order[j] as number;
        j--;
      }
      order[j + 1] = item;
    }
  }
  return order;
}
