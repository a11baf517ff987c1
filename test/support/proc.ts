/** What /proc says about a process: whether it is alive, and which files it holds open and how far it has read them. */
import fs from 'node:fs';

/** True while a process with this pid exists (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/**
 * The offsets at which process `pid` (`self` for this one) holds `file` open, one per descriptor: how far its
 * reads have got. Empty when it does not hold the file open, or has exited.
 */
export function openFileOffsets(pid: number | 'self', file: string): number[] {
  const offsets: number[] = [];
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return offsets;
  }
  for (const fd of fds) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) !== file) continue;
      const pos = /^pos:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (pos !== null) offsets.push(Number(pos[1]));
    } catch {
      // The descriptor was closed between the listing and the look: not open.
    }
  }
  return offsets;
}

/** The names of the threads of process `pid` (`/proc/PID/task/TID/comm`; Node names worker threads `WorkerThread`). */
export function threadNames(pid: number | 'self'): string[] {
  const names: string[] = [];
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return names;
  }
  for (const tid of tids) {
    try {
      names.push(fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return names;
}
