/** The errors watchers report on their error channel (never thrown at the agent: watching goes on where it can). */
import { WardenError } from '../errors/index.ts';

/**
 * Every code a WatchError carries, as a public list. A watcher losing its target (a directory gone, the mount table
 * unreadable) is no error but a `watcher-down` event (watcher-health.ts): it comes back by itself.
 */
export const WATCH_ERROR_CODES = [
  /** A directory could not be watched (evidence: dir, errno; ENOSPC means inotify watches are exhausted). */
  'WATCH_DIR_FAILED',
  /** A full listing to resynchronise after a burst failed (evidence: dir). */
  'WATCH_SCAN_FAILED',
  /** An entry could not be stat-ed for a reason other than being gone (evidence: path, errno). */
  'WATCH_STAT_FAILED',
  /** The lower DB's watcher failed, or its identity could not be read (evidence: file). */
  'WATCH_DB_FAILED',
  /**
   * The lower nix-daemon could not be asked for its valid paths at start (evidence: socket, daemonError: its code);
   * its watcher reports it down and reconnects.
   */
  'WATCH_DAEMON_UNAVAILABLE',
  /** The upper DB could not be read to find the closures a vanished lower path breaks (evidence: file). */
  'WATCH_UPPER_DB_UNREADABLE',
] as const;

export type WatchErrorCode = (typeof WATCH_ERROR_CODES)[number];

/** A problem a watcher hit; it keeps watching what it still can. */
export class WatchError extends WardenError<WatchErrorCode> {}
