/** Completes a layer listing's kinds with the overlay xattrs: which directories are opaque, which empty files whiteouts. */
import fs from 'node:fs';
import { classifyOverlayEntry, marksMatter, readOverlayMarks, type ReadMarksOptions, type XattrProbe } from '../mount/index.ts';
import { KIND_CODE, type LayerListing } from './layer-listing.ts';

/**
 * Reads the overlay xattrs of the entries `ids` of `listing` (which must keep names) whose kind they can change
 * (marksMatter: directories, and regular files that lstat finds empty), and rewrites those entries' kinds with
 * classifyOverlayEntry. An entry that vanished meanwhile, or that lstat or getfattr cannot read, keeps its kind.
 * Returns the xattr probe: when getfattr is missing, no kind changes and `available` is false.
 * Rejects with `signal.reason` when aborted.
 */
export async function applyOverlayMarks(listing: LayerListing, ids: Iterable<number>, options: ReadMarksOptions = {}): Promise<XattrProbe> {
  const stats = new Map<number, fs.Stats>();
  const paths: string[] = [];
  for (const id of ids) {
    const kind = listing.kinds[id];
    if (kind !== KIND_CODE.directory && kind !== KIND_CODE.file) continue;
    const path = pathOf(listing, id);
    const st = lstatOrUndefined(path);
    if (st === undefined || !marksMatter(st)) continue;
    stats.set(id, st);
    paths.push(path);
  }
  const probe = await readOverlayMarks(paths, options);
  if (!probe.available) return probe;
  for (const [id, st] of stats) {
    const marks = probe.marks.get(pathOf(listing, id));
    if (marks !== undefined) listing.kinds[id] = KIND_CODE[classifyOverlayEntry(st, marks)];
  }
  return probe;
}

function pathOf(listing: LayerListing, id: number): string {
  return `${listing.dir}/${listing.names?.get(id) ?? ''}`;
}

function lstatOrUndefined(path: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(path);
  } catch {
    return undefined; // vanished or unreadable: as getfattr leaves out a path it cannot read
  }
}
