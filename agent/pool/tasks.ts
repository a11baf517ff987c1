/** The messages the worker pool runs: a discriminated union on `type`, and the result each type yields. */
import type { SerialisedError } from './serialised-error.ts';

export const TASK_TYPES = ['nar-hash', 'nar-hash-batch', 'scan-layer-chunk', 'compare-pair'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** NAR-serialise one path (a store object in a layer) and hash it. */
export interface NarHashTask {
  readonly type: 'nar-hash';
  readonly path: string;
}

/**
 * NAR-hash several paths one after another on one thread, so that many small objects pay one message round trip
 * (about 100 µs, and a thread idle meanwhile) instead of one each. A path that fails does not stop the others.
 */
export interface NarHashBatchTask {
  readonly type: 'nar-hash-batch';
  readonly paths: readonly string[];
}

/** lstat a chunk of one directory's entries (the caller read the names, so chunks stay small and even). */
export interface ScanLayerChunkTask {
  readonly type: 'scan-layer-chunk';
  readonly dir: string;
  readonly names: readonly string[];
}

/** Hash both copies of a path present in two layers, and measure what removing the upper copy frees. */
export interface ComparePairTask {
  readonly type: 'compare-pair';
  readonly upperPath: string;
  readonly lowerPath: string;
}

export type PoolTask = NarHashTask | NarHashBatchTask | ScanLayerChunkTask | ComparePairTask;

/** SHA-256 of a path's NAR serialisation, in lowercase hex, and the NAR's length in bytes. */
export interface NarDigest {
  readonly hash: string;
  readonly narSize: number;
}

export interface NarHashTaskResult extends NarDigest {
  readonly type: 'nar-hash';
}

/** One path of a batch: its digest, or why it could not be hashed (the worker-side error as data). */
export type NarHashBatchEntry = ({ readonly ok: true } & NarDigest) | { readonly ok: false; readonly error: SerialisedError };

export interface NarHashBatchTaskResult {
  readonly type: 'nar-hash-batch';
  /** One per path, in the order given. */
  readonly results: readonly NarHashBatchEntry[];
}

/**
 * What lstat says an entry is. `whiteout` is OverlayFS's character device 0:0; the other
 * whiteout form (a zero-size file with `trusted.overlay.whiteout`) needs xattrs and shows as `file`.
 * `vanished`: listed by the caller but gone by the time of the lstat (an expected race).
 */
export type EntryKind = 'directory' | 'file' | 'symlink' | 'whiteout' | 'other' | 'vanished';

/**
 * Whether a directory carries OverlayFS's opaque xattr (`trusted.overlay.opaque=y`, or
 * `user.overlay.opaque` with `userxattr`). Node has no getxattr, so the scan reports `unknown`.
 */
export type OpaqueState = 'yes' | 'no' | 'unknown';

export interface ScannedEntry {
  readonly name: string;
  readonly kind: EntryKind;
  /** lstat's size in bytes (0 for a vanished entry). */
  readonly size: number;
  /** Present for directories only. */
  readonly opaque?: OpaqueState;
}

export interface ScanLayerChunkTaskResult {
  readonly type: 'scan-layer-chunk';
  readonly dir: string;
  /** One per requested name, in the order given. */
  readonly entries: readonly ScannedEntry[];
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
  readonly 'scan-layer-chunk': ScanLayerChunkTaskResult;
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
      return task.paths[0] ?? '';
    case 'scan-layer-chunk':
      return task.dir;
    case 'compare-pair':
      return task.upperPath;
  }
}

/**
 * A task in a few words for messages: `nar-hash /p`, `nar-hash-batch /p (+2 more)`, `compare-pair /u vs /l`,
 * `scan-layer-chunk /d (3 names)`.
 */
export function describeTask(task: PoolTask): string {
  switch (task.type) {
    case 'nar-hash':
      return `nar-hash ${task.path}`;
    case 'nar-hash-batch':
      return `nar-hash-batch ${task.paths[0] ?? '(no paths)'} (+${Math.max(task.paths.length - 1, 0)} more)`;
    case 'scan-layer-chunk':
      return `scan-layer-chunk ${task.dir} (${task.names.length} names)`;
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
    case 'scan-layer-chunk':
      return 0;
  }
}
