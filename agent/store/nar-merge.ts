/** The NAR of what OverlayFS serves for one name: an upper-layer object over the lower layer's object of that name. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import { classifyOverlayEntry, isWhiteout, type OverlayMarks } from '../mount/index.ts';
import { NarError, narIoError } from './nar-error.ts';
import { hashingWalker, type NarHashResult, type NarWalker } from './nar.ts';
import type { FsPath } from './nar-stage.ts';

/** The overlay xattrs of an upper-layer path, undefined for none (e.g. looked up in readOverlayMarksTreeSync's map). */
export type MarksOf = (path: Buffer) => OverlayMarks | undefined;

export interface MergedNarResult extends NarHashResult {
  /** Some of it came from the lower layer: a directory merged with the lower one, or a metacopy file's data. */
  readonly merged: boolean;
}

const S_IXUSR = 0o100;
const SLASH = Buffer.from('/');

/**
 * SHA-256 and size of the NAR of what OverlayFS serves for `upper` (an object in the upper layer, not a whiteout)
 * over `lower` (the lower layer's object of the same name, which need not exist), merged as the kernel merges:
 * - an upper non-directory, or an upper directory that is opaque or has no lower directory under it, is served alone;
 * - an upper directory over a lower directory is their union: the upper entry wins a name, a whiteout (either form)
 *   removes it, and a name both hold is merged again by these rules (a copy-up of one file inside a store path
 *   leaves an upper directory holding only that file: what is served is still the whole tree);
 * - an upper regular file marked `metacopy` keeps its own executable bit and serves the lower regular file's data.
 * Computed from the layers, this is what a fresh mount of them serves, whether or not one is mounted here: a stale
 * view (which can keep serving what a layer no longer holds) does not count. `marksOf` must know every upper path
 * below `upper` whose xattrs matter (readOverlayMarksTreeSync of `upper`).
 * @throws NarError as narHashOfPathSync does (NAR_IO_ERROR with ENOENT when `upper` is gone); NAR_OVERLAY_REDIRECT
 *   for a redirect (`redirect_dir=on`) or a metacopy file without its lower data beside it, whose lower object is
 *   elsewhere, which this does not follow.
 */
export function narHashOfMergedSync(upper: string, lower: string, marksOf: MarksOf): MergedNarResult {
  const hash = createHash('sha256');
  const walker = hashingWalker(hash);
  const merge = new Merge(walker, marksOf);
  const top = Buffer.from(upper);
  walker.magic();
  merge.node(top, lstat(top), Buffer.from(lower));
  walker.finish();
  return { hash: hash.digest(), narSize: walker.narSize, merged: merge.merged };
}

/** One merged walk: writes nodes through the walker, and records whether the lower layer contributed. */
class Merge {
  merged = false;
  readonly #walker: NarWalker;
  readonly #marksOf: MarksOf;

  constructor(walker: NarWalker, marksOf: MarksOf) {
    this.#walker = walker;
    this.#marksOf = marksOf;
  }

  /** The node served for `upper` (lstat `st`) over `lower`. */
  node(upper: Buffer, st: fs.Stats, lower: Buffer): void {
    const marks = this.#marksOf(upper);
    if (st.isDirectory() && marks?.opaque !== true) {
      if (marks?.redirect === true) throw unfollowed(upper, 'a redirect (redirect_dir=on) names the lower directory it merges with');
      if (lstatOrUndefined(lower)?.isDirectory() === true) return this.#directory(upper, lower);
    } else if (st.isFile() && marks?.metacopy === true) {
      if (marks.redirect === true || lstatOrUndefined(lower)?.isFile() !== true) {
        throw unfollowed(upper, 'a metacopy file whose data is not the lower regular file of the same name');
      }
      this.merged = true;
      return this.#walker.regularFrom((st.mode & S_IXUSR) !== 0, asFsPath(lower));
    }
    this.#walker.subtree(asFsPath(upper));
  }

  /** The union of two directories, entries in NAR order (bytewise by name). */
  #directory(upper: Buffer, lower: Buffer): void {
    this.merged = true;
    const walker = this.#walker;
    const upperNames = sortedNames(upper);
    const lowerNames = sortedNames(lower);
    walker.openDirectory();
    let u = 0;
    let l = 0;
    while (u < upperNames.length || l < lowerNames.length) {
      const order = u === upperNames.length ? 1 : l === lowerNames.length ? -1 : Buffer.compare(upperNames[u]!, lowerNames[l]!);
      if (order > 0) {
        const name = lowerNames[l++]!;
        walker.entry(name, () => walker.subtree(asFsPath(joined(lower, name))));
        continue;
      }
      const name = upperNames[u++]!;
      if (order === 0) l++;
      const path = joined(upper, name);
      const st = lstat(path);
      // A whiteout hides the lower entry of its name, and over nothing it is hidden itself.
      if (isWhiteout(classifyOverlayEntry(st, this.#marksOf(path)))) continue;
      walker.entry(name, () => this.node(path, st, joined(lower, name)));
    }
    walker.closeDirectory();
  }
}

function unfollowed(upper: Buffer, what: string): NarError {
  return new NarError('NAR_OVERLAY_REDIRECT', `'${upper.toString()}' is ${what}: overlay-warden does not follow it to hash what the merged view serves`, {
    evidence: { path: upper.toString() },
    hint: 'mount with redirect_dir=off and metacopy=off (see the mount.option-* findings of overlay-warden check)',
  });
}

function sortedNames(dir: Buffer): Buffer[] {
  let names: Buffer[];
  try {
    names = fs.readdirSync(dir, { encoding: 'buffer' });
  } catch (error) {
    throw narIoError(dir, error);
  }
  return names.sort(Buffer.compare);
}

function joined(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, SLASH, name]);
}

/** A string when the bytes are UTF-8 (the walker reads strings faster), else the bytes. */
function asFsPath(path: Buffer): FsPath {
  const text = path.toString('utf8');
  return Buffer.byteLength(text) === path.length && !text.includes('\uFFFD') ? text : path;
}

function lstat(path: Buffer): fs.Stats {
  try {
    return fs.lstatSync(path);
  } catch (error) {
    throw narIoError(path, error);
  }
}

/** lstat, or undefined when nothing is there (ENOENT, or ENOTDIR: a file where a directory was expected). */
function lstatOrUndefined(path: Buffer): fs.Stats | undefined {
  try {
    return fs.lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    const errno = errnoCode(error);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return undefined;
    throw narIoError(path, error);
  }
}
