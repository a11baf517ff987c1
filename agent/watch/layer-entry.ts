/** The state of one top-level name in a layer, by lstat: what the watchers compare against what they knew. */
import fs from 'node:fs';
import { entryKindOf } from '../baseline/store-dir-entry.ts';
import { errnoCode } from '../errors/index.ts';
import type { UpperState } from './layer-changes.ts';

/**
 * `object`, `whiteout`, or `absent` (missing, a Nix lock file, or not a store path name) for `dir/name`.
 * @throws the lstat error when it is not ENOENT/ENOTDIR.
 */
export function layerEntryState(dir: string, name: string): UpperState {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(`${dir}/${name}`);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
    throw error;
  }
  const kind = entryKindOf(name, stats);
  return kind === 'object' || kind === 'whiteout' ? kind : 'absent';
}
