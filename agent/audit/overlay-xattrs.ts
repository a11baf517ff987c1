/**
 * Reads OverlayFS's marker xattrs (opaque dirs, xattr whiteouts) of a few upper-layer entries with `getfattr`.
 * Node has no getxattr(2); one `getfattr` per batch of paths costs a few milliseconds, and only entries that could
 * hide a lower path are asked about, so the cost stays small. Without `getfattr` (Debian: package `attr`) the probe
 * says so and the audit reports that opaque dirs were not checked.
 */
import { execFile } from 'node:child_process';
import { errnoCode } from '../errors/index.ts';

/** The xattrs that matter: `trusted.` as root mounts use, `user.` with the `userxattr` mount option. */
export const OVERLAY_MARKER_ATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque', 'trusted.overlay.whiteout', 'user.overlay.whiteout'] as const;

/** What the xattrs say about one path. */
export interface OverlayMarks {
  /** `overlay.opaque` is `y` (a directory hiding the lower directory of the same name). */
  readonly opaque: boolean;
  /** `overlay.whiteout` is set (the xattr form of a whiteout: a zero-size file, used in nested overlays). */
  readonly whiteout: boolean;
}

export type XattrProbe =
  | { readonly available: true; readonly marks: ReadonlyMap<string, OverlayMarks> }
  | { readonly available: false; readonly reason: string };

/** Paths per getfattr call: far below the argument-size limit for store paths. */
const BATCH = 512;
const PATTERN = '^(trusted|user)\\.overlay\\.(opaque|whiteout)$';

/**
 * Parses `getfattr -d -h -e text --absolute-names -m PATTERN` output: `# file: PATH` headers, then `name="value"`
 * lines, blocks separated by blank lines. Only paths with a marker appear in the result (pure).
 */
export function parseGetfattrDump(text: string): Map<string, OverlayMarks> {
  const marks = new Map<string, OverlayMarks>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = line.slice('# file: '.length);
      continue;
    }
    if (current === undefined || line === '') continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? '' : line.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    const previous = marks.get(current) ?? { opaque: false, whiteout: false };
    if (name.endsWith('.overlay.opaque')) marks.set(current, { ...previous, opaque: previous.opaque || value === 'y' });
    else if (name.endsWith('.overlay.whiteout')) marks.set(current, { ...previous, whiteout: true });
  }
  return marks;
}

/**
 * Reads the overlay marker xattrs of `paths` (absolute; symlinks not followed) in batches. Paths without markers,
 * or that vanished, are absent from `marks`. `available: false` when getfattr is not installed.
 * Rejects with `signal.reason` when aborted.
 */
export async function probeOverlayXattrs(paths: readonly string[], signal?: AbortSignal, getfattr = 'getfattr'): Promise<XattrProbe> {
  const marks = new Map<string, OverlayMarks>();
  for (let start = 0; start < paths.length; start += BATCH) {
    signal?.throwIfAborted();
    const batch = paths.slice(start, start + BATCH);
    let stdout: string;
    try {
      stdout = await run(getfattr, ['-d', '-h', '-e', 'text', '--absolute-names', '-m', PATTERN, '--', ...batch], signal);
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      if (errnoCode(error) === 'ENOENT') return { available: false, reason: `${getfattr} is not installed (Debian package: attr)` };
      throw error;
    }
    for (const [path, mark] of parseGetfattrDump(stdout)) marks.set(path, mark);
  }
  return { available: true, marks };
}

/** Runs the tool; exit status 1 (some path had no xattrs support or vanished) still yields what it printed. */
function run(file: string, args: string[], signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...(signal === undefined ? {} : { signal }) }, (error, stdout) => {
      if (error === null || (typeof error.code === 'number' && error.code === 1)) resolve(stdout);
      else reject(error);
    });
  });
}
