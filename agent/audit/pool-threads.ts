/** How many worker threads content hashing gets, from the `pool.size` setting and the machine (pure). */

/**
 * Threads per core when `pool.size` is `auto`. Hashing with a warm page cache is CPU-bound (one thread per core
 * would do), but with a cold cache each thread spends most of its time waiting for reads, and more threads keep
 * more reads in flight; the extra threads cost little when the cache is warm (measured by `npm run bench:verify`).
 */
export const AUTO_THREADS_PER_CORE = 2;

/** `size` when it is a number, else AUTO_THREADS_PER_CORE × cores (at least 2). */
export function hashingThreads(size: 'auto' | number, cores: number): number {
  if (size !== 'auto') return size;
  return Math.max(2, AUTO_THREADS_PER_CORE * Math.max(1, cores));
}
