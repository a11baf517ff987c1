/** Disk space a file tree occupies that deleting it would give back: allocated blocks of inodes with no link outside it. */
import fs from 'node:fs';

/** An inode's allocation and link counts, as lstat reports them. */
export interface InodeUsage {
  /** `dev:ino`, so hard links to one inode collapse. */
  readonly key: string;
  /** st_blocks × 512. */
  readonly allocatedBytes: number;
  readonly nlink: number;
}

/**
 * Bytes freed by deleting every listed link: an inode counts once, and only when all its
 * links are in the list (a file also hard-linked elsewhere, e.g. from Nix's `.links`, stays).
 */
export function bytesFreedByRemoval(links: Iterable<InodeUsage>): number {
  let freed = 0;
  const shared = new Map<string, { seen: number; usage: InodeUsage }>();
  for (const usage of links) {
    if (usage.nlink <= 1) {
      freed += usage.allocatedBytes;
      continue;
    }
    const entry = shared.get(usage.key);
    if (entry === undefined) shared.set(usage.key, { seen: 1, usage });
    else entry.seen++;
  }
  for (const { seen, usage } of shared.values()) if (seen >= usage.nlink) freed += usage.allocatedBytes;
  return freed;
}

/**
 * What deleting `root` (file, symlink or directory tree; symlinks not followed) would free,
 * per `bytesFreedByRemoval`. Directories count too: their blocks are freed as well.
 * @throws Node errno errors (ENOENT, EACCES…) with the failing path.
 */
export function allocatedBytesFreedByRemovalSync(root: string): number {
  return bytesFreedByRemoval(walkInodes(root));
}

function* walkInodes(root: string): Generator<InodeUsage> {
  const pending = [root];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const st = fs.lstatSync(path);
    // Directories have nlink ≥ 2 (".", "..", subdirectories): their links are not hard links to share.
    const nlink = st.isDirectory() ? 1 : st.nlink;
    yield { key: `${st.dev}:${st.ino}`, allocatedBytes: st.blocks * 512, nlink };
    if (st.isDirectory()) for (const name of fs.readdirSync(path)) pending.push(`${path}/${name}`);
  }
}
