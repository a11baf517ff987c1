/** Worker handler for `nar-hash`: the NAR SHA-256 (hex) and size of one path, via the store's NAR hasher. */
import { narHashOfPathSync } from '../../store/index.ts';
import type { NarDigest, NarHashTask, NarHashTaskResult } from '../tasks.ts';

/** narHashOfPathSync with the hash as lowercase hex, so it crosses the thread boundary as a string. Throws NarError. */
export function narDigestOf(path: string): NarDigest {
  const { hash, narSize } = narHashOfPathSync(path);
  return { hash: hash.toString('hex'), narSize };
}

/** Runs a `nar-hash` task. Throws NarError (code and failing path in its evidence). */
export function runNarHash(task: NarHashTask): NarHashTaskResult {
  return { type: 'nar-hash', ...narDigestOf(task.path) };
}
