/**
 * Reads OverlayFS's marker xattrs (opaque dirs, xattr whiteouts) of a few layer entries with `getfattr`, never
 * unescaping its text: values are asked for in hex, and a path is matched to its header only when getfattr prints it
 * unchanged (planGetfattrCalls).
 * Node has no getxattr(2); one `getfattr` per batch of paths costs a few milliseconds, and callers ask only about
 * entries whose kind the marks can change (marksMatter), so the cost stays small. Without `getfattr` (Debian:
 * package `attr`) the probe says so, and callers report what they could not check.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import type { OverlayMarks } from './overlay-entry.ts';

export type XattrProbe =
  { readonly available: true; readonly marks: ReadonlyMap<string, OverlayMarks> } | { readonly available: false; readonly reason: string };

export interface ReadMarksOptions {
  readonly signal?: AbortSignal;
  /** The getfattr executable: an absolute path or a name on PATH (some runs use another working directory). Default: `getfattr`. */
  readonly getfattr?: string;
}

/** Paths per getfattr call: far below the argument-size limit for store paths. */
const BATCH = 512;
/** The marker xattrs, in both namespaces (`trusted.` as root mounts use, `user.` with the `userxattr` option). */
const PATTERN = '^(trusted|user)\\.overlay\\.(opaque|whiteout)$';
/**
 * Names getfattr prints unchanged in its `# file:` lines: printable ASCII without a backslash. It escapes other
 * bytes (`\012` for a newline, `\134` for a backslash), so its headers are only matched against such names.
 */
const PRINTED_AS_IS = /^[\x20-\x5b\x5d-\x7e]+$/;

/** One getfattr run: the paths it is given, the directory it runs in, and how a header maps back to a path asked about. */
export interface GetfattrCall {
  readonly batch: readonly string[];
  /** Run in this directory, `batch` holding names relative to it (their headers come back as given). */
  readonly cwd?: string;
  /** The one path of the batch, taken for every block whatever the header says. */
  readonly onlyPath?: string;
}

/**
 * Plans the getfattr runs for `paths` so that no header needs unescaping: paths printed as they are go in batches;
 * paths whose directory is odd (a newline or a backslash in an upper layer's path) but whose names are not, in
 * batches per directory run there with relative names; any other path on its own. Pure.
 */
export function planGetfattrCalls(paths: readonly string[], batchSize = BATCH): GetfattrCall[] {
  const plain: string[] = [];
  const byDir = new Map<string, string[]>();
  const alone: GetfattrCall[] = [];
  for (const path of paths) {
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    if (PRINTED_AS_IS.test(path)) plain.push(path);
    else if (slash > 0 && PRINTED_AS_IS.test(name) && name !== '.' && name !== '..') {
      const dir = path.slice(0, slash);
      const names = byDir.get(dir);
      if (names === undefined) byDir.set(dir, [name]);
      else names.push(name);
    } else alone.push({ batch: [path], onlyPath: path });
  }
  const calls: GetfattrCall[] = [];
  for (let start = 0; start < plain.length; start += batchSize) calls.push({ batch: plain.slice(start, start + batchSize) });
  for (const [cwd, names] of byDir)
    for (let start = 0; start < names.length; start += batchSize) calls.push({ batch: names.slice(start, start + batchSize), cwd });
  return [...calls, ...alone];
}

/**
 * Parses `getfattr -d -e hex` output: `# file: PATH` headers, then `NAME=0xHEX` lines (or a bare `NAME` for an empty
 * value), blocks separated by blank lines. Values are hex, so no value needs unescaping; `onlyPath`, when given, is
 * taken as the path of every block instead of the header. Only paths with a marker appear in the result. Pure.
 */
export function parseOverlayMarks(text: string, onlyPath?: string): Map<string, OverlayMarks> {
  const marks = new Map<string, OverlayMarks>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = onlyPath ?? line.slice('# file: '.length);
      continue;
    }
    if (current === undefined || line === '') continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? '' : line.slice(eq + 1);
    const previous = marks.get(current) ?? { opaque: false, whiteout: false };
    if (name.endsWith('.overlay.opaque')) marks.set(current, { ...previous, opaque: previous.opaque || value.toLowerCase() === '0x79' });
    else if (name.endsWith('.overlay.whiteout')) marks.set(current, { ...previous, whiteout: true });
    else if (name.endsWith('.overlay.metacopy')) marks.set(current, { ...previous, metacopy: true });
    else if (name.endsWith('.overlay.redirect')) marks.set(current, { ...previous, redirect: true });
  }
  return marks;
}

/**
 * Reads the overlay marker xattrs of `paths` (absolute; symlinks not followed). Paths without markers, or that
 * vanished, are absent from `marks`. `available: false` when getfattr is not installed.
 * Rejects with `signal.reason` when aborted; with the spawn error when getfattr cannot run for another reason.
 */
export async function readOverlayMarks(paths: readonly string[], options: ReadMarksOptions = {}): Promise<XattrProbe> {
  const getfattr = options.getfattr ?? 'getfattr';
  const marks = new Map<string, OverlayMarks>();
  for (const { batch, cwd, onlyPath } of planGetfattrCalls(paths)) {
    options.signal?.throwIfAborted();
    let stdout: string;
    try {
      stdout = await run(getfattr, ['-d', '-h', '-e', 'hex', '--absolute-names', '-m', PATTERN, '--', ...batch], cwd, options.signal);
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      if (errnoCode(error) !== 'ENOENT') throw error;
      // spawn fails with ENOENT for a missing tool and for a working directory that vanished, its paths with it.
      if (cwd !== undefined && !existsSync(cwd)) continue;
      return { available: false, reason: `${getfattr} is not installed (Debian package: attr)` };
    }
    for (const [path, mark] of parseOverlayMarks(stdout, onlyPath)) marks.set(cwd === undefined ? path : `${cwd}/${path}`, mark);
  }
  return { available: true, marks };
}

/** Runs the tool; exit status 1 (some path had no xattr support or vanished) still yields what it printed. */
function run(file: string, args: string[], cwd: string | undefined, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { encoding: 'utf8' as const, maxBuffer: 64 << 20, ...(cwd === undefined ? {} : { cwd }), ...(signal === undefined ? {} : { signal }) };
    execFile(file, args, options, (error, stdout) => {
      if (error === null || (typeof error.code === 'number' && error.code === 1)) resolve(stdout);
      else reject(error);
    });
  });
}

/** The marks of every entry under some roots, by path bytes (see readOverlayMarksTreeSync). */
export type TreeMarks =
  | { readonly available: true; readonly marks: ReadonlyMap<string, OverlayMarks> }
  | { readonly available: false; readonly reason: string; readonly marks: ReadonlyMap<string, OverlayMarks> };

/** Every xattr that changes what the merged view serves from an upper-layer tree, in both namespaces. */
const TREE_PATTERN = '^(trusted|user)\\.overlay\\.(opaque|whiteout|metacopy|redirect)$';

/** The key of `path` in TreeMarks.marks: its bytes, one char per byte (latin1), so any name is found exactly. */
export function treeMarksKey(path: string | Buffer): string {
  return (typeof path === 'string' ? Buffer.from(path) : path).toString('latin1');
}

/**
 * Reads, with one `getfattr -R` (symlinks not followed), the overlay xattrs that decide what the merged view serves
 * (opaque dirs, xattr whiteouts, metacopy files, redirects) of every entry under `roots` (absolute paths). Keys are
 * treeMarksKey of each path. Synchronous, for worker threads; a walk of a tree that does not hold many entries.
 * `available: false` (and no marks) when getfattr is not installed or cannot run.
 */
export function readOverlayMarksTreeSync(roots: readonly string[], getfattr = 'getfattr'): TreeMarks {
  if (roots.length === 0) return { available: true, marks: new Map() };
  const result = spawnSync(getfattr, ['-R', '-d', '-h', '-e', 'hex', '--absolute-names', '-m', TREE_PATTERN, '--', ...roots], { maxBuffer: 64 << 20 });
  if (result.error !== undefined || (result.status !== 0 && result.status !== 1)) {
    const why =
      errnoCode(result.error) === 'ENOENT'
        ? `${getfattr} is not installed (Debian package: attr)`
        : `${getfattr} failed (status ${result.status ?? result.signal})`;
    return { available: false, reason: why, marks: new Map() };
  }
  // Bytes as latin1 chars, and getfattr's octal escapes (\012, \134) undone, give each path's bytes exactly.
  const marks = new Map<string, OverlayMarks>();
  for (const [header, mark] of parseOverlayMarks(result.stdout.toString('latin1'))) {
    marks.set(
      header.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
      mark,
    );
  }
  return { available: true, marks };
}
