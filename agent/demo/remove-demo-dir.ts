/** Removes a demo directory, including the mode-000 `work/work` dir OverlayFS leaves in its workdir. */
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors/index.ts';

/**
 * Deletes `dir` recursively. OverlayFS creates `WORKDIR/work` with mode 000;
 * root ignores that, an unprivileged user (the demo in a user namespace)
 * cannot, so on EACCES directories are made owner-accessible and the removal
 * retried. Never follows symlinks (chmod on a symlink entry is skipped).
 */
export function removeDemoDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    if (errnoCode(error) !== 'EACCES') throw error;
    grantOwnerAccess(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function grantOwnerAccess(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) grantOwnerAccess(join(dir, entry.name));
  }
}
