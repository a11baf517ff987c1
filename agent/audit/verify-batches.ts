/** Groups the objects verify hashes into batches: many small ones per pool task, a big one alone (pure). */
import type { VerifyItem } from './find-corrupt.ts';

export interface BatchLimits {
  /** A batch closes once the NAR bytes its DBs expect reach this; an object this big goes alone. */
  readonly bytes: number;
  /** Most objects in one batch. */
  readonly items: number;
}

/**
 * A batch's round trip to a worker (about 100 µs, the thread idle meanwhile) is paid once for all its objects;
 * 8 MiB is about 10 ms of hashing on one core, so the threads still end within moments of each other, a Ctrl-C
 * loses little, and progress moves several times a second.
 */
export const VERIFY_BATCH_LIMITS: BatchLimits = Object.freeze({ bytes: 8 << 20, items: 32 });

/** The NAR size an item is expected to have: the largest any of its DBs records (0 when none does). */
export function expectedNarSize(item: VerifyItem): number {
  let size = 0;
  for (const expectation of item.expected) size = Math.max(size, expectation.narSize);
  return size;
}

/**
 * Consecutive items in batches, in input order, lazily (a million items are never all held): a batch closes when
 * it holds `limits.items` items or its expected NAR bytes reach `limits.bytes`; an item of `limits.bytes` or more
 * starts a batch of its own, so a big object never delays small ones queued behind it in the same task.
 */
export function* verifyBatches(items: Iterable<VerifyItem>, limits: BatchLimits = VERIFY_BATCH_LIMITS): Generator<VerifyItem[]> {
  let batch: VerifyItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = expectedNarSize(item);
    if (size >= limits.bytes && batch.length > 0) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
    if (batch.length >= limits.items || bytes >= limits.bytes) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield batch;
}
