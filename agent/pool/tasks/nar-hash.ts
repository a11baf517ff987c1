/** Worker handler for `nar-hash`: the NAR SHA-256 (hex) and size of one path, via the store's NAR hasher. */
import { treeMarksKey, type TreeMarks } from '../../mount/index.ts';
import { narHashOfMergedSync, narHashOfPathSync } from '../../store/index.ts';
import type { NarDigest, NarHashTask, NarHashTaskResult, NarSource } from '../tasks.ts';

/** narHashOfPathSync with the hash as lowercase hex, so it crosses the thread boundary as a string. Throws NarError. */
export function narDigestOf(path: string): NarDigest {
  const { hash, narSize } = narHashOfPathSync(path);
  return { hash: hash.toString('hex'), narSize };
}

/**
 * The digest of a source: a path alone, or an upper object merged over its lower one with the xattrs in `marks`
 * (readOverlayMarksTreeSync of the upper object; when that could not be read, the digest says why). Throws NarError.
 */
export function sourceDigestOf(source: NarSource, marks: TreeMarks): NarDigest {
  if (typeof source === 'string') return narDigestOf(source);
  const { hash, narSize, merged } = narHashOfMergedSync(source.upper, source.lower, (path) => marks.marks.get(treeMarksKey(path)));
  return { hash: hash.toString('hex'), narSize, merged, ...(marks.available ? {} : { xattrsUnread: marks.reason }) };
}

/** Runs a `nar-hash` task. Throws NarError (code and failing path in its evidence). */
export function runNarHash(task: NarHashTask): NarHashTaskResult {
  return { type: 'nar-hash', ...narDigestOf(task.path) };
}
