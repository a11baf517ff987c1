/** The messages the worker pool runs: a discriminated union on `type`, and the result each type yields. */
import type { PoolTaskError } from './pool-errors.ts';
import { rebuildThreadError, type SerialisedError } from './serialised-error.ts';

export const TASK_TYPES = ['nar-hash', 'nar-hash-batch', 'compare-pair'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** NAR-serialise one path (a store object in a layer) and hash it. */
export interface NarHashTask {
  readonly type: 'nar-hash';
  readonly path: string;
}

/**
 * What one entry of a batch hashes: a path, or an upper-layer object as OverlayFS serves it over the lower layer's
 * object of the same name (`narHashOfMergedSync`: a directory merged with the lower one, a metacopy file's data),
 * and that lower object on its own, so that a caller can tell which copy matches when they differ.
 */
export type NarSource = string | { readonly upper: string; readonly lower: string };

/** The path a source is named by in messages: the path, or the upper object. */
export function sourcePath(source: NarSource): string {
  return typeof source === 'string' ? source : source.upper;
}

/**
 * NAR-hash several sources one after another on one thread, so that many small objects pay one message round trip
 * (about 100 µs, and a thread idle meanwhile) instead of one each. A source that fails does not stop the others.
 */
export interface NarHashBatchTask {
  readonly type: 'nar-hash-batch';
  readonly paths: readonly NarSource[];
}

/**
 * Hash both copies of a path present in two layers (the upper one as the merged view serves it, merged over the
 * lower one where OverlayFS merges), and measure what removing the upper copy frees.
 */
export interface ComparePairTask {
  readonly type: 'compare-pair';
  readonly upperPath: string;
  readonly lowerPath: string;
}

export type PoolTask = NarHashTask | NarHashBatchTask | ComparePairTask;

/** SHA-256 of a path's NAR serialisation, in lowercase hex, and the NAR's length in bytes. */
export interface NarDigest {
  readonly hash: string;
  readonly narSize: number;
  /** Of a merged source: whether the lower object contributed (see MergedNarResult). */
  readonly merged?: boolean;
  /**
   * Of a merged source over an existing lower object: why the overlay xattrs could not be read (getfattr missing),
   * so that opaque dirs, xattr whiteouts and metacopy files counted as plain ones.
   */
  readonly xattrsUnread?: string;
}

export interface NarHashTaskResult extends NarDigest {
  readonly type: 'nar-hash';
}

/** The lower object of a merged source, hashed on its own: its digest, nothing there, or why it could not be hashed. */
export type LowerObjectDigest =
  ({ readonly kind: 'hashed' } & NarDigest) | { readonly kind: 'absent' } | { readonly kind: 'failed'; readonly error: SerialisedError };

/**
 * One source of a batch: its digest (with, for a merged source, its lower object's), or why it could not be hashed
 * (the worker-side error as data).
 */
export type NarHashBatchEntry =
  ({ readonly ok: true; readonly lower?: LowerObjectDigest } & NarDigest) | { readonly ok: false; readonly error: SerialisedError };

export interface NarHashBatchTaskResult {
  readonly type: 'nar-hash-batch';
  /** One per path, in the order given. */
  readonly results: readonly NarHashBatchEntry[];
}

export interface ComparePairTaskResult {
  readonly type: 'compare-pair';
  readonly upper: NarDigest;
  readonly lower: NarDigest;
  /** Both NAR hashes (and so both NAR sizes) are the same. */
  readonly equal: boolean;
  /** Disk space the upper copy occupies (allocated blocks, each inode once): what removing it would free. */
  readonly upperBytes: number;
}

export interface TaskResultByType {
  readonly 'nar-hash': NarHashTaskResult;
  readonly 'nar-hash-batch': NarHashBatchTaskResult;
  readonly 'compare-pair': ComparePairTaskResult;
}

export type PoolTaskResult = TaskResultByType[TaskType];

/** The result type of task `T` (`TaskResult<NarHashTask>` is `NarHashTaskResult`). */
export type TaskResult<T extends PoolTask> = TaskResultByType[T['type']];

/** The path a task is about, for messages and evidence (a pair is named by its upper copy, a batch by its first path). */
export function taskSubject(task: PoolTask): string {
  switch (task.type) {
    case 'nar-hash':
      return task.path;
    case 'nar-hash-batch':
      return task.paths[0] === undefined ? '' : sourcePath(task.paths[0]);
    case 'compare-pair':
      return task.upperPath;
  }
}

/**
 * A task in a few words for messages: `nar-hash /p`, `nar-hash-batch /p (+2 more)`, `compare-pair /u vs /l`.
 */
export function describeTask(task: PoolTask): string {
  switch (task.type) {
    case 'nar-hash':
      return `nar-hash ${task.path}`;
    case 'nar-hash-batch':
      return `nar-hash-batch ${task.paths[0] === undefined ? '(no paths)' : sourcePath(task.paths[0])} (+${Math.max(task.paths.length - 1, 0)} more)`;
    case 'compare-pair':
      return `compare-pair ${task.upperPath} vs ${task.lowerPath}`;
  }
}

/** Bytes of content a result stands for, for throughput: what was read and hashed. */
export function resultBytes(result: PoolTaskResult): number {
  switch (result.type) {
    case 'nar-hash':
      return result.narSize;
    case 'nar-hash-batch':
      return result.results.reduce((sum, entry) => sum + (entry.ok ? entry.narSize : 0), 0);
    case 'compare-pair':
      return result.upper.narSize + result.lower.narSize;
  }
}

/**
 * Rebuilds a worker-side error for `task` on the main thread: same code, hint and evidence,
 * plus `task` (the message that failed) and `taskPath`; the message names the task first.
 */
export function rebuildTaskError(remote: SerialisedError, task: PoolTask): PoolTaskError {
  return rebuildThreadError(remote, { subject: describeTask(task), evidence: { task, taskPath: taskSubject(task) } });
}
