/** The typed emitter every watcher extends: drift events on `drift`, watcher health on `health`, problems apart on `error`. */
import { EventEmitter } from 'node:events';
import type { DriftEvent } from './drift-events.ts';
import type { WatchError } from './watch-errors.ts';
import type { WatcherHealthEvent } from './watcher-health.ts';

/** The emitter's event map: listeners get one DriftEvent, one WatcherHealthEvent or one WatchError. */
export interface DriftEmitterEvents {
  drift: [event: DriftEvent];
  health: [event: WatcherHealthEvent];
  error: [error: WatchError];
}

/**
 * An EventEmitter of drift events, watcher health and watch errors. Unlike a bare EventEmitter, an `error` with no
 * listener does not throw (a watcher must never crash the agent): it is kept in `lastError` and dropped.
 */
export class DriftEmitter extends EventEmitter<DriftEmitterEvents> {
  /** The last error emitted while nobody listened on `error`. */
  lastError: WatchError | undefined;

  /** Emits `event` on `drift`. */
  protected emitDrift(event: DriftEvent): void {
    this.emit('drift', event);
  }

  /** Emits `event` on `health`. */
  protected emitHealth(event: WatcherHealthEvent): void {
    this.emit('health', event);
  }

  /** Emits `error` on `error`, or keeps it in `lastError` when nobody listens. */
  protected emitError(error: WatchError): void {
    if (this.listenerCount('error') === 0) this.lastError = error;
    else this.emit('error', error);
  }
}
