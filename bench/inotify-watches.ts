/** How many inotify watches this process holds (from /proc/self/fdinfo): what counts against fs.inotify.max_user_watches. */
import fs from 'node:fs';

export function inotifyWatches(): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:inotify')
        n += fs
          .readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // The fd closed meanwhile.
    }
  }
  return n;
}
