/** Which upper-DB registrations a vanished lower path breaks: read from the upper Nix DB, read-only. */
import { readNixDb } from '../store/index.ts';
import type { BrokenUpperClosure } from './drift-events.ts';

/** Answers which upper closures vanished lower paths break (injected, so watchers can be tested without a DB). */
export interface UpperClosureLookup {
  /**
   * For each vanished store path (full path) the upper DB registers, its registration and direct referrers; paths
   * it does not register are left out (the DB cannot reference a path it does not register). Sorted by path.
   * @throws whatever reading the DB throws (NixDbError from the default lookup).
   */
  brokenClosures(paths: readonly string[]): BrokenUpperClosure[];
}

/**
 * The lookup over the upper Nix DB `upperDb`: opened read-only for each call and closed after (a long-lived reader
 * would pin the WAL while Nix writes). Only direct referrers are listed: every closure containing one of them is
 * broken too, but that set can be the whole upper store.
 */
export function upperDbClosureLookup(upperDb: string, storeDir: string): UpperClosureLookup {
  return {
    brokenClosures(paths: readonly string[]): BrokenUpperClosure[] {
      if (paths.length === 0) return [];
      // readNixDb: read again if Nix wrote the DB under a lock-free snapshot read (see NixDbOpenMode).
      return readNixDb(upperDb, { storeDir }, (db) => {
        const broken: BrokenUpperClosure[] = [];
        for (const path of [...paths].sort()) {
          const referrers = db.queryReferrers(path);
          if (referrers === undefined) continue;
          broken.push({ path, registeredInUpper: true, referrers: referrers.filter((r) => r !== path) });
        }
        return broken;
      });
    },
  };
}
