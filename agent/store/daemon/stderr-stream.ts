/**
 * The log messages ("stderr") a nix-daemon sends after every request, before the answer: log lines, activities,
 * and either STDERR_LAST (the answer follows) or STDERR_ERROR (the operation failed).
 */
import { DaemonError } from './daemon-error.ts';
import type { FrameReader } from './frame-reader.ts';
import { SINCE, STDERR } from './worker-protocol.ts';

/** What a daemon said while working on one operation. */
export type DaemonLogEvent =
  | { readonly type: 'line'; readonly text: string }
  | { readonly type: 'start-activity'; readonly id: number; readonly level: number; readonly activityType: number; readonly text: string }
  | { readonly type: 'stop-activity'; readonly id: number }
  | { readonly type: 'result'; readonly id: number; readonly resultType: number };

/** The error a daemon reported, as read from STDERR_ERROR. */
export interface RemoteFailure {
  readonly message: string;
  /** Nix's exit status (protocol < 1.26) or undefined. */
  readonly status: number | undefined;
  /** The traces' texts (protocol ≥ 1.26). */
  readonly traces: readonly string[];
}

/** What one log message was: STDERR_LAST (the answer follows), any other message (more follow), or the daemon's error. */
export type StderrStep = 'last' | 'log' | RemoteFailure;

/**
 * Reads one log message, synchronously (NEED_MORE when its bytes are not all there: nothing is passed to `onLog`
 * before the whole message is read, so a retry reports it once). A log line or activity goes to `onLog`.
 * @throws DaemonError DAEMON_BAD_FRAME (unknown tag, a field of unknown type, a data request: a read-only op never
 *   sends or receives data), or whatever the reader throws.
 */
export function readStderrMessage(reader: FrameReader, minor: number, onLog: (event: DaemonLogEvent) => void): StderrStep {
  const tag = reader.u64('log message tag');
  switch (tag) {
    case STDERR.LAST:
      return 'last';
    case STDERR.ERROR:
      return readRemoteFailure(reader, minor);
    case STDERR.NEXT:
      onLog({ type: 'line', text: reader.string('log line') });
      return 'log';
    case STDERR.START_ACTIVITY: {
      const id = reader.u64('activity id');
      const level = reader.u64('activity level');
      const activityType = reader.u64('activity type');
      const text = reader.string('activity text');
      skipFields(reader);
      reader.u64('activity parent');
      onLog({ type: 'start-activity', id, level, activityType, text });
      return 'log';
    }
    case STDERR.STOP_ACTIVITY:
      onLog({ type: 'stop-activity', id: reader.u64('activity id') });
      return 'log';
    case STDERR.RESULT: {
      const id = reader.u64('activity id');
      const resultType = reader.u64('result type');
      skipFields(reader);
      onLog({ type: 'result', id, resultType });
      return 'log';
    }
    default:
      throw badTag(reader, tag);
  }
}

/**
 * Reads log messages up to STDERR_LAST, committing each as it completes (so a NEED_MORE resumes at the next one).
 * Returns undefined after STDERR_LAST, or the daemon's error after STDERR_ERROR (the connection stays usable: the
 * daemon waits for the next request).
 * @throws as readStderrMessage.
 */
export function readStderr(reader: FrameReader, minor: number, onLog: (event: DaemonLogEvent) => void): RemoteFailure | undefined {
  for (;;) {
    const step = readStderrMessage(reader, minor, onLog);
    reader.commit();
    if (step === 'last') return undefined;
    if (step !== 'log') return step;
  }
}

function readRemoteFailure(reader: FrameReader, minor: number): RemoteFailure {
  if (minor < SINCE.structuredErrors) {
    const message = reader.string('error message');
    return { message, status: reader.u64('error status'), traces: [] };
  }
  const kind = reader.string('error type');
  if (kind !== 'Error') throw new DaemonError('DAEMON_BAD_FRAME', `nix-daemon sent an error of type '${kind}', not 'Error'`, { evidence: { kind } });
  reader.u64('error level');
  reader.skipString('error name');
  const message = reader.string('error message');
  noPosition(reader);
  const count = reader.listLength('error traces');
  const traces: string[] = [];
  for (let i = 0; i < count; i++) {
    noPosition(reader);
    traces.push(reader.string('error trace'));
  }
  return { message, status: undefined, traces };
}

/** Nix never sends positions over the protocol (its own reader refuses them); a peer that does is not Nix. */
function noPosition(reader: FrameReader): void {
  const havePos = reader.u64('error position flag');
  if (havePos !== 0) throw new DaemonError('DAEMON_BAD_FRAME', 'nix-daemon sent an error position, which Nix never does', { evidence: { havePos } });
}

/** Activity fields: a count, then each a type (0 number, 1 string) and its value. Only skipped: we log the text. */
function skipFields(reader: FrameReader): void {
  const count = reader.listLength('activity fields');
  for (let i = 0; i < count; i++) {
    const type = reader.u64('activity field type');
    if (type === 0) reader.u64('activity field');
    else if (type === 1) reader.skipString('activity field');
    else throw new DaemonError('DAEMON_BAD_FRAME', `nix-daemon sent an activity field of unknown type ${type}`, { evidence: { type } });
  }
}

function badTag(reader: FrameReader, tag: number): DaemonError {
  const known = tag === STDERR.READ || tag === STDERR.WRITE;
  return new DaemonError(
    'DAEMON_BAD_FRAME',
    known ? 'nix-daemon asked to exchange data during a read-only operation' : `nix-daemon sent an unknown log message tag 0x${tag.toString(16)}`,
    { evidence: { tag, buffered: reader.bufferedBytes } },
  );
}
