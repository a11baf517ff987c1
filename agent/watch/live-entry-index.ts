/** The set of entries a watcher believes a store dir holds: a compact EntrySet plus the changes seen since. */
import { EntrySet } from '../baseline/index.ts';

/** Changes kept beside the base set before they are merged into it (a merge costs one pass over the base). */
const COMPACT_AFTER = 4096;

/**
 * A mutable view over an immutable EntrySet: `add` and `delete` go to small side sets, merged into a new base once
 * they grow past a few thousand names. Membership costs a binary search; memory stays ≈45 MB per million entries.
 */
export class LiveEntryIndex {
  #base: EntrySet;
  readonly #added = new Set<string>();
  readonly #removed = new Set<string>();

  constructor(base: EntrySet = EntrySet.empty()) {
    this.#base = base;
  }

  has(name: string): boolean {
    if (this.#added.has(name)) return true;
    if (this.#removed.has(name)) return false;
    return this.#base.has(name);
  }

  add(name: string): void {
    this.#removed.delete(name);
    if (!this.#base.has(name)) this.#added.add(name);
    this.#compactIfLarge();
  }

  delete(name: string): void {
    this.#added.delete(name);
    if (this.#base.has(name)) this.#removed.add(name);
    this.#compactIfLarge();
  }

  /** The entries now, as an EntrySet (merges the side sets). */
  snapshot(): EntrySet {
    if (this.#added.size > 0 || this.#removed.size > 0) {
      this.#base = this.#base.withChanges(this.#added, this.#removed);
      this.#added.clear();
      this.#removed.clear();
    }
    return this.#base;
  }

  /** Replaces everything with `base` (after a full listing). */
  reset(base: EntrySet): void {
    this.#base = base;
    this.#added.clear();
    this.#removed.clear();
  }

  #compactIfLarge(): void {
    if (this.#added.size + this.#removed.size > COMPACT_AFTER) this.snapshot();
  }
}
