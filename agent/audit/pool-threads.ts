/** How many worker threads content hashing gets, from the `pool.size` setting and the machine (pure). */

/**
 * Threads per core when `pool.size` is `auto`. Hashing with a warm page cache is CPU-bound (one thread per core
 * does), but with a cold cache each thread spends most of its time waiting for reads, and more threads keep more
 * reads in flight (measured by `npm run bench:verify`). With `auto`, verify hashes on one thread per core and
 * starts the others only while its reads are fetched from storage rather than served by the page cache
 * (hashing-concurrency.ts), so the extra threads cost nothing when the cache is warm. Two per core, not four: cold
 * reads cost much CPU on a VM (each I/O a trip through the hypervisor), and in `npm run bench:verify` under other
 * load, 4 threads on 2 cores beat 8 in four cold cells of five (by 3-39%), with 2-5 s less CPU.
 */
export const AUTO_THREADS_PER_CORE = 2;
/** Most threads `auto` gives, however many cores. */
export const AUTO_THREADS_MAX = 32;

/** `size` when it is a number, else AUTO_THREADS_PER_CORE × cores, from 4 to AUTO_THREADS_MAX. */
export function hashingThreads(size: 'auto' | number, cores: number): number {
  if (size !== 'auto') return size;
  return Math.min(AUTO_THREADS_MAX, Math.max(4, AUTO_THREADS_PER_CORE * Math.max(1, cores)));
}
