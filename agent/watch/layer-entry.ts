/** The state of one top-level name in a layer, by lstat: what the watchers compare against what they knew. */
import fs from 'node:fs';
import { entryKindOf } from '../baseline/index.ts';
import { errnoCode } from '../errors/index.ts';
import type { UpperState } from './layer-changes.ts';

/** A top-level name's state, and whether it is a directory (inotify reports its attribute changes as renames). */
export interface LayerEntry {
  readonly state: UpperState;
  readonly directory: boolean;
}

/**
 * `object`, `whiteout`, or `absent` (missing, a Nix lock file, or not a store path name) for `dir/name`, and whether
 * it is a directory.
 * @throws the lstat error when it is not ENOENT/ENOTDIR.
 */
export function layerEntry(dir: string, name: string): LayerEntry {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(`${dir}/${name}`);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'absent', directory: false };
    throw error;
  }
  const kind = entryKindOf(name, stats);
  return { state: kind === 'object' || kind === 'whiteout' ? kind : 'absent', directory: stats.isDirectory() };
}

/** The state of `dir/name` (see layerEntry). @throws the lstat error when it is not ENOENT/ENOTDIR. */
export function layerEntryState(dir: string, name: string): UpperState {
  return layerEntry(dir, name).state;
}
