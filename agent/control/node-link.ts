/** Publishes the agent's Node binary beside its control socket, so hooks/nix-remount-hook can find a working Node. */
import { readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errors/index.ts';

/** The link's name in the socket's directory. */
export const NODE_LINK_NAME = 'node';

/** Where the link lives for a given socket path. Pure. */
export function nodeLinkPath(socketPath: string): string {
  return join(dirname(socketPath), NODE_LINK_NAME);
}

/**
 * Points `<socket dir>/node` at `execPath` (atomically: a temp link, then
 * rename). The directory was checked to be writable only by root, so the hook
 * may trust the link. Returns the link's path.
 */
export function publishNodeLink(socketPath: string, execPath: string = process.execPath): string {
  const link = nodeLinkPath(socketPath);
  const temp = `${link}.${process.pid}.tmp`;
  try {
    unlinkSync(temp);
  } catch {
    // Usually absent.
  }
  symlinkSync(execPath, temp);
  renameSync(temp, link);
  return link;
}

/** Removes the link if it still points at `execPath` (another agent may have replaced it). */
export function removeNodeLink(socketPath: string, execPath: string = process.execPath): void {
  const link = nodeLinkPath(socketPath);
  try {
    if (readlinkSync(link) === execPath) unlinkSync(link);
  } catch (cause) {
    if (errnoCode(cause) !== 'ENOENT' && errnoCode(cause) !== 'EINVAL') throw cause;
  }
}
