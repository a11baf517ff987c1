/** Worker handler for `scan-layer-chunk`: lstat each named entry of one layer directory and say what it is. */
import fs from 'node:fs';
import { WardenError } from '../../errors/index.ts';
import type { PoolTaskFailureCode } from '../pool-errors.ts';
import type { EntryKind, ScanLayerChunkTask, ScanLayerChunkTaskResult, ScannedEntry } from '../tasks.ts';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** What an lstat result is: OverlayFS marks a deleted lower entry with a character device 0:0 (a whiteout). */
export function entryKind(mode: number, rdev: number): EntryKind {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'directory';
    case S_IFREG:
      return 'file';
    case S_IFLNK:
      return 'symlink';
    case S_IFCHR:
      return rdev === 0 ? 'whiteout' : 'other';
    default:
      return 'other';
  }
}

/**
 * Runs a `scan-layer-chunk` task: one entry per name, in order. An entry that vanished since
 * the caller listed it is reported as `vanished` (an expected race on a live layer).
 *
 * Opaque directories are always `unknown`: reading `trusted.overlay.opaque` needs getxattr(2),
 * which Node does not expose, and the fallbacks are not clean (no `getfattr` on this kind of
 * machine; a child process per directory costs more than the whole scan). Callers that must know
 * can compare the merged view with the layers.
 * @throws WardenError POOL_TASK_INVALID when a name is not a single path component;
 *   errno errors other than ENOENT (ENOTDIR, EACCES…) with the failing path.
 */
export function runScanLayerChunk(task: ScanLayerChunkTask): ScanLayerChunkTaskResult {
  const prefix = task.dir.endsWith('/') ? task.dir : `${task.dir}/`;
  const entries: ScannedEntry[] = [];
  for (const name of task.names) {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new WardenError<PoolTaskFailureCode>('POOL_TASK_INVALID', `scan-layer-chunk: ${JSON.stringify(name)} is not a directory entry name`, {
        evidence: { dir: task.dir, name },
      });
    }
    entries.push(scanEntry(prefix + name, name));
  }
  return { type: 'scan-layer-chunk', dir: task.dir, entries };
}

function scanEntry(path: string, name: string): ScannedEntry {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return { name, kind: 'vanished', size: 0 };
  const kind = entryKind(st.mode, st.rdev);
  return kind === 'directory' ? { name, kind, size: st.size, opaque: 'unknown' } : { name, kind, size: st.size };
}
