/** Deterministic pseudo-random numbers (mulberry32) for the demo store, seeded from a tuple of integers. */

/** A stream of pseudo-random numbers; the same seeds always give the same stream. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive); 0 when maxExclusive ≤ 0. */
  int(maxExclusive: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** Mixes the seeds into one 32-bit state (murmur3's finaliser per step), so nearby tuples give unrelated streams. */
function mixSeeds(seeds: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const seed of seeds) {
    h = Math.imul(h ^ (seed >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A Random seeded from `seeds` (each taken as an unsigned 32-bit integer). Pure: no global state. */
export function createRandom(...seeds: number[]): Random {
  let state = mixSeeds(seeds);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (maxExclusive) => (maxExclusive <= 0 ? 0 : Math.floor(next() * maxExclusive)),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}
