/**
 * Removing an upper copy in two steps: rename it aside inside the upper layer (one atomic rename on one file system,
 * so the store path's name is gone at once), then delete the renamed tree. A crash between the two leaves a marked
 * leftover (`.overlay-warden-dedupe-<name>`), never half a store path under its own name; the next run deletes it.
 */
import { lstatSync, renameSync, rmSync } from 'node:fs';
import { dedupeLeftoverName, dedupeLeftoverOf } from '../audit/index.ts';
import { errnoCode, WardenError } from '../errors/index.ts';

export type DedupeErrorCode = 'DEDUPE_SET_ASIDE_FAILED' | 'DEDUPE_DELETE_FAILED' | 'DEDUPE_BAD_NAME';

/** A copy could not be set aside or deleted. */
export class DedupeError extends WardenError<DedupeErrorCode> {}

/**
 * Renames the upper copy `upperLayer/baseName` to its leftover name, beside it. rename(2) acts on the entry itself:
 * a symlink is renamed, not followed. Refuses when something already has the leftover name (rename would replace it).
 * @throws DedupeError DEDUPE_SET_ASIDE_FAILED (evidence: from, to, errno).
 */
export function setAside(upperLayer: string, baseName: string): string {
  const name = dedupeLeftoverName(baseName);
  const from = `${upperLayer}/${baseName}`;
  const to = `${upperLayer}/${name}`;
  if (entryExists(to)) {
    throw new DedupeError('DEDUPE_SET_ASIDE_FAILED', `cannot set ${from} aside: ${to} already exists`, {
      evidence: { from, to },
      hint: 'a leftover of an earlier dedupe is there: run overlay-warden dedupe --apply again, which deletes leftovers first',
    });
  }
  try {
    renameSync(from, to);
  } catch (cause) {
    throw new DedupeError('DEDUPE_SET_ASIDE_FAILED', `cannot rename ${from} to ${to} (${errnoCode(cause) ?? 'error'})`, {
      evidence: { from, to, errno: errnoCode(cause) },
      cause,
    });
  }
  return name;
}

/**
 * Deletes the leftover `upperLayer/name` (a name dedupeLeftoverOf accepts, so never a store path or anything else),
 * recursively and without following symlinks: a symlink inside is removed, not its target. Root may remove the
 * read-only directories of a store object; anyone else gets EACCES.
 * @throws DedupeError DEDUPE_BAD_NAME for a name that is not a leftover's, DEDUPE_DELETE_FAILED (evidence: path, errno).
 */
export function deleteLeftover(upperLayer: string, name: string): void {
  if (dedupeLeftoverOf(name) === undefined) {
    throw new DedupeError('DEDUPE_BAD_NAME', `${name} is not the name of a copy dedupe set aside`, { evidence: { upperLayer, name } });
  }
  const path = `${upperLayer}/${name}`;
  try {
    rmSync(path, { recursive: true, force: true, maxRetries: 2 });
  } catch (cause) {
    throw new DedupeError('DEDUPE_DELETE_FAILED', `cannot delete ${path} (${errnoCode(cause) ?? 'error'})`, {
      evidence: { path, errno: errnoCode(cause) },
      hint: 'dedupe --apply needs root; the next run tries again',
      cause,
    });
  }
}

/** Whether an entry is at `path` (a symlink counts as itself, never followed); errors other than ENOENT are thrown. */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}
