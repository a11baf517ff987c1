/** Whether a process waits for a flock: what /proc/locks shows, so a test can wait for "blocked" without timing. */
import { readFileSync, statSync } from 'node:fs';

/** True while some process waits in flock(2) for the lock on `file` (a `->` line of /proc/locks names its inode); false while there is no such file. */
export function someoneWaitsForLock(file: string): boolean {
  const inode = statSync(file, { throwIfNoEntry: false })?.ino;
  if (inode === undefined) return false;
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .some((line) => /->\s+FLOCK/.test(line) && line.split(/\s+/).some((field) => field.endsWith(`:${inode}`)));
}
