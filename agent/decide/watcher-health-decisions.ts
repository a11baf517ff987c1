/** What the agent does and logs when a watcher loses its target or sees it again: pure, like the drift decisions. */
import type { LogLine } from '../log/index.ts';
import type { WatcherDownReason, WatcherHealthEvent, WatcherName } from '../watch/index.ts';
import type { AgentAction } from './drift-decisions.ts';

/**
 * The actions a watcher health event calls for: a layer directory (the lower store dir, the upper layer) lost or
 * back → re-run the mount check, so that `status` judges the mount by the layers as they are now (the check reports
 * a missing layer). The lower daemon back → a new baseline: it holds the daemon's identity even when nothing changed
 * meanwhile (a start with the daemon down had none to save). The lower DB's directory and the mount table call for
 * nothing: what changed while they were not watched comes as drift once they are, and the drift decides.
 */
export function decideOnWatcherHealth(event: WatcherHealthEvent): AgentAction[] {
  switch (event.watcher) {
    case 'lower-store-dir':
    case 'upper-layer':
      return [{ kind: 'recheck-mount' }];
    case 'lower-daemon':
      return event.type === 'watcher-up' ? [{ kind: 'refresh-baseline' }] : [];
    case 'lower-db':
    case 'mount-table':
      return [];
  }
}

/** What each watcher watches, in words. */
const WATCHED: Readonly<Record<WatcherName, string>> = {
  'lower-store-dir': 'the lower store dir',
  'upper-layer': 'the upper layer',
  'lower-db': "the lower DB's directory",
  'mount-table': 'the mount table',
  'lower-daemon': 'the lower nix-daemon at',
};

/** Each reason, after the target's name. */
const DOWN_BECAUSE: Readonly<Record<WatcherDownReason, string>> = {
  vanished: 'is gone (deleted or moved away)',
  replaced: 'was replaced by another directory',
  'not-a-directory': 'is no longer a directory',
  'watch-failed': 'cannot be watched',
  unreadable: 'cannot be read',
  unavailable: 'is unavailable',
};

/** What a lost layer means for the overlay, for the down line's hint. */
const LAYER_HINT =
  'put the directory back at its path (the watch comes back by itself); the overlay keeps the directory it was mounted with, so a layer replaced by a new directory needs an unmount and a mount';

/** What a lost lower daemon means, for the down line's hint. */
const DAEMON_HINT =
  'start the nix-daemon serving the lower store, or fix its socket (the agent reconnects with backoff); until it answers, Nix cannot query lower paths through the overlay store';

/**
 * The log line of a health event: `watcher-down` at error level (changes there go unseen until it is back),
 * `watcher-up` at info (the changes made meanwhile follow as their own drift lines). The `event` field is the type,
 * the others are the event's own. Pure.
 */
export function watcherHealthLogLine(event: WatcherHealthEvent): LogLine {
  const { type, ...fields } = event;
  const what = `${WATCHED[event.watcher]} ${event.target}`;
  if (event.type === 'watcher-up') {
    return {
      level: 'info',
      message: `watcher up: ${what} is ${event.watcher === 'lower-daemon' ? 'answering' : 'watched'} again (down since ${event.downSince}: ${event.reason}); what changed meanwhile follows as drift`,
      fields: { event: type, ...fields },
    };
  }
  const layer = event.watcher === 'lower-store-dir' || event.watcher === 'upper-layer';
  return {
    level: 'error',
    message: `watcher down: ${what} ${DOWN_BECAUSE[event.reason]}${event.detail === undefined ? '' : ` (${event.detail})`}; its changes go unseen until it is back`,
    fields: { event: type, ...fields, ...(layer ? { hint: LAYER_HINT } : event.watcher === 'lower-daemon' ? { hint: DAEMON_HINT } : {}) },
  };
}
