/** The stale-view probe: stat recently affected store paths through the merged dir and both layers, and judge each. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../errors/index.ts';
import { classifyOverlayEntry, isWhiteout, type OverlayMarks, readOverlayMarks } from '../mount/index.ts';
import { isValidStorePathName } from '../store/index.ts';
import { judgeView, sameState, type ObjectState, type PathView, type Verdict } from './view-verdict.ts';

/** The three directories the probe reads (a Config's layout gives them: mergedStoreDir, upperLayer, lower.realStoreDir). */
export interface ProbeLayout {
  readonly mergedStoreDir: string;
  readonly upperLayer: string;
  readonly lowerStoreDir: string;
}

export interface ProbeOptions {
  /** Tries per name while a layer keeps changing under the probe (default 3). */
  readonly attempts?: number;
  /** Pause between tries (default 25 ms). */
  readonly retryDelayMs?: number;
  readonly signal?: AbortSignal;
}

export interface ProbeResult {
  /** The base name probed. */
  readonly name: string;
  readonly verdict: Verdict;
  /** The lstat results the verdict came from (evidence). */
  readonly view: PathView;
}

export interface ProbeReport {
  readonly results: readonly ProbeResult[];
  /** The stale ones: a remount is needed. */
  readonly stale: readonly ProbeResult[];
  /** Names skipped: not store path names. */
  readonly skipped: readonly string[];
}

/** The probe layout from a configuration's store layout. */
export function probeLayoutOf(layout: {
  readonly mergedStoreDir: string;
  readonly upperLayer: string;
  readonly lower: { readonly realStoreDir: string };
}): ProbeLayout {
  return { mergedStoreDir: layout.mergedStoreDir, upperLayer: layout.upperLayer, lowerStoreDir: layout.lower.realStoreDir };
}

/**
 * Probes each of `paths` (store paths or base names; only the base name is used): lstat of both layers, of the
 * merged dir, then of both layers again; when a layer changed meanwhile (Nix building or deleting right then), it
 * tries again, and after `attempts` tries reports `inconclusive`. Read-only: nothing is created through the merged
 * view (a `mkdir` inside a stale directory fails with ENOENT on kernel 6.18, but must not be how we find out).
 * Rejects only with `signal.reason`.
 */
export async function probeStaleView(layout: ProbeLayout, paths: Iterable<string>, options: ProbeOptions = {}): Promise<ProbeReport> {
  const attempts = options.attempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 25;
  const results: ProbeResult[] = [];
  const skipped: string[] = [];
  for (const name of new Set(Array.from(paths, (p) => path.posix.basename(p)))) {
    options.signal?.throwIfAborted();
    if (!isValidStorePathName(name)) {
      skipped.push(name);
      continue;
    }
    results.push(await probeName(layout, name, attempts, retryDelayMs, options.signal));
  }
  return { results, stale: results.filter((r) => r.verdict.state === 'stale'), skipped };
}

async function probeName(layout: ProbeLayout, name: string, attempts: number, retryDelayMs: number, signal: AbortSignal | undefined): Promise<ProbeResult> {
  let view: PathView | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const upper = await objectState(path.join(layout.upperLayer, name), true);
    const lower = await objectState(path.join(layout.lowerStoreDir, name), false);
    const merged = await objectState(path.join(layout.mergedStoreDir, name), false);
    view = { name, merged, upper, lower };
    const upperAfter = await objectState(path.join(layout.upperLayer, name), true);
    const lowerAfter = await objectState(path.join(layout.lowerStoreDir, name), false);
    if (sameState(upper, upperAfter) && sameState(lower, lowerAfter)) return { name, verdict: judgeView(view), view };
    if (attempt < attempts) await sleep(retryDelayMs, undefined, signal === undefined ? undefined : { signal });
  }
  return { name, verdict: { state: 'inconclusive', reason: 'changed-during-probe' }, view: view as PathView };
}

/**
 * lstat of `file` as an ObjectState. In an upper layer, a whiteout of either form is `whiteout`: an empty regular
 * file there has its xattrs read (getfattr; without it, the file counts as present).
 */
async function objectState(file: string, upperLayer: boolean): Promise<ObjectState> {
  let s: import('node:fs').BigIntStats;
  try {
    s = await fs.lstat(file, { bigint: true });
  } catch (error) {
    const errno = errnoCode(error) ?? 'EIO';
    return errno === 'ENOENT' || errno === 'ENOTDIR' ? { kind: 'absent' } : { kind: 'error', errno };
  }
  // Only an empty file's marks can make it a whiteout; an opaque directory is present all the same.
  const marks = upperLayer && s.isFile() && s.size === 0n ? await whiteoutMarks(file) : undefined;
  if (upperLayer && isWhiteout(classifyOverlayEntry(s, marks))) return { kind: 'whiteout' };
  const type = s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'symlink' : 'other';
  return { kind: 'present', type, perm: Number(s.mode & 0o7777n), size: Number(s.size), mtimeNs: String(s.mtimeNs), nlink: Number(s.nlink) };
}

/** The overlay marks of one file; undefined when it has none or they cannot be read (the probe never rejects for them). */
async function whiteoutMarks(file: string): Promise<OverlayMarks | undefined> {
  try {
    const probe = await readOverlayMarks([file]);
    return probe.available ? probe.marks.get(file) : undefined;
  } catch {
    return undefined;
  }
}
