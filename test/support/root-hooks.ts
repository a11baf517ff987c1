/**
 * Mocha root hooks (loaded by .mocharc's `require`): work that every run may need later is started at once, so it
 * overlaps the tests before it instead of adding to the run's time.
 */
import { prefetchDebianRootfs } from './debian-rootfs.ts';

export const mochaHooks = {
  beforeAll(): void {
    // The deployment tests' Debian root (about 50 s to build when not cached).
    prefetchDebianRootfs();
  },
};
