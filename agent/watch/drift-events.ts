/** Drift events: what changed in the lower store, its DB, the upper layer or the mount, as a union on `type`. */
import type { LowerDaemonIdentity, LowerDbIdentity } from '../baseline/index.ts';
import type { MountChangeKind, MountView } from './mount-view.ts';

export type { MountChangeKind } from './mount-view.ts';

/** Every drift event type, as a public list (alert rules and metrics key on these; never rename one). */
export const DRIFT_EVENT_TYPES = [
  'lower-grew',
  'lower-shrank',
  'lower-path-modified',
  'lower-db-replaced',
  'lower-db-modified',
  'upper-path-added',
  'upper-path-deleted',
  'upper-whiteout-added',
  'mount-changed',
  'lower-daemon-modified',
] as const;

export type DriftEventType = (typeof DRIFT_EVENT_TYPES)[number];

/** True for drift of the lower store (its dir, its DB or its daemon): what changes what an audit would find. Pure. */
export function isLowerStoreDrift(type: DriftEventType): boolean {
  return type.startsWith('lower-');
}

/** Where an event was seen: the start-up diff against the baseline, or the live watchers. */
export type DriftSource = 'startup' | 'watch';

interface DriftEventBase<T extends DriftEventType> {
  readonly type: T;
  readonly source: DriftSource;
  /** When the change was noticed (ISO 8601). */
  readonly at: string;
}

/** New store paths in the lower store dir (full paths under the logical store dir, sorted). */
export interface LowerGrewEvent extends DriftEventBase<'lower-grew'> {
  readonly paths: readonly string[];
}

/**
 * An upper-DB registration that a vanished lower path breaks: the path itself when the upper DB registers it
 * (copied-up metadata that now lies), and the upper-DB paths that reference it (their closures are broken).
 */
export interface BrokenUpperClosure {
  /** The vanished lower path. */
  readonly path: string;
  /** The upper DB registers it (Nix copied its metadata up): that registration is now dangling. */
  readonly registeredInUpper: boolean;
  /** Upper-DB paths that reference it directly (itself excluded), sorted. */
  readonly referrers: readonly string[];
}

/**
 * Store paths gone from the lower store dir. `brokenUpperClosures` lists those the upper layer does not hold a
 * copy of and the upper DB knows (registered or referenced); null when the upper DB could not be read (the error
 * goes to the error channel).
 */
export interface LowerShrankEvent extends DriftEventBase<'lower-shrank'> {
  readonly paths: readonly string[];
  readonly brokenUpperClosures: readonly BrokenUpperClosure[] | null;
}

/**
 * How a lower path changed: `replaced` (a file renamed over or recreated), `changed` (a file's attributes or
 * contents), `changed-or-replaced` (a directory: inotify through Node does not tell the two apart for directories).
 */
export type LowerPathChange = 'replaced' | 'changed' | 'changed-or-replaced';

/** A lower store path changed in place (only top-level changes are seen: the watch is not recursive). */
export interface LowerPathModifiedEvent extends DriftEventBase<'lower-path-modified'> {
  readonly path: string;
  readonly detail: LowerPathChange;
}

/** The lower DB file was replaced (new inode), appeared or vanished. */
export interface LowerDbReplacedEvent extends DriftEventBase<'lower-db-replaced'> {
  readonly change: 'replaced' | 'appeared' | 'vanished';
  readonly before: LowerDbIdentity | null;
  readonly after: LowerDbIdentity | null;
}

/** The lower DB file (or its WAL) changed in place. */
export interface LowerDbModifiedEvent extends DriftEventBase<'lower-db-modified'> {
  readonly before: LowerDbIdentity;
  readonly after: LowerDbIdentity;
}

/**
 * The set of paths a daemon lower store calls valid changed (paths registered or deleted through the daemon): the
 * daemon's counterpart of `lower-db-modified`. Only the count and digest are compared, so which paths is not known
 * here (the store dir's own events name those whose objects came or went).
 */
export interface LowerDaemonModifiedEvent extends DriftEventBase<'lower-daemon-modified'> {
  readonly before: LowerDaemonIdentity;
  readonly after: LowerDaemonIdentity;
}

/** A new store path at the top of the upper layer (a build or substitution through the overlay, or a direct write). */
export interface UpperPathAddedEvent extends DriftEventBase<'upper-path-added'> {
  readonly path: string;
}

/**
 * An entry deleted directly in the upper layer (not through the overlay, which would leave a whiteout or delete an
 * upper-only path). With `alsoInLower` the merged view may keep serving the deleted upper copy: a stale view, which
 * a remount fixes. `entry` says what was deleted: a store object, or a whiteout (un-hiding a lower path).
 */
export interface UpperPathDeletedEvent extends DriftEventBase<'upper-path-deleted'> {
  readonly path: string;
  readonly alsoInLower: boolean;
  readonly entry: 'object' | 'whiteout';
}

/** A whiteout appeared in the upper layer: the path was deleted through the overlay; `masksLower` when the lower has it. */
export interface UpperWhiteoutAddedEvent extends DriftEventBase<'upper-whiteout-added'> {
  readonly path: string;
  readonly masksLower: boolean;
}

/** The mount at the merged store dir changed (`what`, see MountChangeKind in mount-view.ts). */
export interface MountChangedEvent extends DriftEventBase<'mount-changed'> {
  readonly what: MountChangeKind;
  readonly before: MountView;
  readonly after: MountView;
}

export type DriftEvent =
  | LowerGrewEvent
  | LowerShrankEvent
  | LowerPathModifiedEvent
  | LowerDbReplacedEvent
  | LowerDbModifiedEvent
  | LowerDaemonModifiedEvent
  | UpperPathAddedEvent
  | UpperPathDeletedEvent
  | UpperWhiteoutAddedEvent
  | MountChangedEvent;

/** An event without its `source` and `at` (what a watcher decides; the stamp is added when it is emitted). */
export type DriftEventBody = DriftEvent extends infer E ? (E extends DriftEvent ? Omit<E, 'source' | 'at'> : never) : never;

/** The event of type `T`. */
export type DriftEventOf<T extends DriftEventType> = Extract<DriftEvent, { type: T }>;

/** True when `event` is of type `type` (narrows it). */
export function isDriftEvent<T extends DriftEventType>(event: DriftEvent, type: T): event is DriftEventOf<T> {
  return event.type === type;
}

/**
 * Store paths an event concerns (for the stale-view probe and logs): the event's paths, or none for DB and mount
 * events. Pure.
 */
export function pathsOfDriftEvent(event: DriftEvent): readonly string[] {
  switch (event.type) {
    case 'lower-grew':
    case 'lower-shrank':
      return event.paths;
    case 'lower-path-modified':
    case 'upper-path-added':
    case 'upper-path-deleted':
    case 'upper-whiteout-added':
      return [event.path];
    case 'lower-db-replaced':
    case 'lower-db-modified':
    case 'lower-daemon-modified':
    case 'mount-changed':
      return [];
  }
}
